#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Bernoulli with logits: log p(x) = x * l - softplus(l). Also scores x in
/// [0, 1] (the usual BCE loss on grey levels; not normalized there).
class Bernoulli : public Distribution {
 public:
  explicit Bernoulli(Tensor logits);

  std::string name() const override { return "Bernoulli"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  /// Without gradient, float32 on the CPU: one vectorized pass (dist/bernoulli_kernel.h).
  Tensor log_prob_sum(const Tensor& x) const override;
  Tensor sample(int64_t k = 0) const override;
  Tensor mean() const override { return logits_.sigmoid(); }
  Tensor entropy_elements() const override;
  std::vector<int64_t> sample_shape() const override;

  const Tensor& logits() const { return logits_; }

 private:
  Tensor logits_;
};

}  // namespace elbo::dist
