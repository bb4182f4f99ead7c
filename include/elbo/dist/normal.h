#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Diagonal Normal N(loc, exp(log_scale)^2), reparameterized as
/// z = loc + exp(log_scale) * eps, eps ~ N(0, I) (Kingma & Welling 2014).
class Normal : public Distribution {
 public:
  Normal(Tensor loc, Tensor log_scale);
  /// Normal with a fixed positive scale (checked), broadcast to loc's shape.
  static Normal with_scale(const Tensor& loc, double scale);

  std::string name() const override { return "Normal"; }
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
  Tensor scale() const { return log_scale_.exp(); }

 private:
  Tensor loc_;
  Tensor log_scale_;
};

}  // namespace elbo::dist
