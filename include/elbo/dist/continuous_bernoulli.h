#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Continuous Bernoulli on [0, 1] (Loaiza-Ganem & Cunningham 2019):
/// p(x) = C(l) * exp(l x) / (1 + exp(l)), with log-normalizer
/// log C(l) = log(l / tanh(l / 2)), evaluated stably (Taylor series near l = 0).
/// Reparameterized through its inverse CDF.
class ContinuousBernoulli : public Distribution {
 public:
  explicit ContinuousBernoulli(Tensor logits);

  std::string name() const override { return "ContinuousBernoulli"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(int64_t k = 0) const override;
  Tensor mean() const override;
  Tensor entropy_elements() const override;
  std::vector<int64_t> sample_shape() const override;

  const Tensor& logits() const { return logits_; }
  /// log C(l), elementwise.
  static Tensor log_normalizer(const Tensor& logits);

 private:
  Tensor logits_;
};

}  // namespace elbo::dist
