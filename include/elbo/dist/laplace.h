#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Laplace(loc, b = exp(log_scale)): log p(x) = -|x - loc| / b - log(2b).
/// Its negative log-likelihood is the L1 reconstruction loss (robust to outliers).
class Laplace : public Distribution {
 public:
  Laplace(Tensor loc, Tensor log_scale);

  std::string name() const override { return "Laplace"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(int64_t k = 0) const override;
  Tensor mean() const override { return loc_; }
  Tensor entropy_elements() const override;
  std::vector<int64_t> sample_shape() const override;
  /// {loc, log_scale}, broadcast to the sample shape.
  std::vector<Tensor> parameters() const override;
  std::shared_ptr<Distribution> with_parameters(const std::vector<Tensor>& parameters) const override;

  const Tensor& loc() const { return loc_; }
  const Tensor& log_scale() const { return log_scale_; }

 private:
  Tensor loc_;
  Tensor log_scale_;
};

}  // namespace elbo::dist
