#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Poisson count model with log-rate r: log p(x) = x r - exp(r) - lgamma(x + 1).
class Poisson : public Distribution {
 public:
  explicit Poisson(Tensor log_rate);

  std::string name() const override { return "Poisson"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  Tensor sample(int64_t k = 0) const override;
  Tensor mean() const override { return log_rate_.exp(); }
  std::vector<int64_t> sample_shape() const override;

  const Tensor& log_rate() const { return log_rate_; }

 private:
  Tensor log_rate_;
};

}  // namespace elbo::dist
