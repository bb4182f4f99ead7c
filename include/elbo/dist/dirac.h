#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Point mass at `value`. Exists to be refused with a clear message where it
/// breaks the ELBO: KL(q || Dirac) is infinite for any continuous q (support
/// mismatch). The fix is a narrow Gaussian, Normal::with_scale(value, 0.01).
class Dirac : public Distribution {
 public:
  explicit Dirac(Tensor value);

  std::string name() const override { return "Dirac"; }
  /// 0 where x == value, -inf elsewhere (a mass, not a density).
  Tensor log_prob_elements(const Tensor& x) const override;
  Tensor sample(int64_t k = 0) const override;
  Tensor mean() const override { return value_; }
  std::vector<int64_t> sample_shape() const override;

 private:
  Tensor value_;
};

}  // namespace elbo::dist
