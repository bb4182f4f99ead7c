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

/// The smallest scale an encoder's Gaussian posterior can take. Unbounded log-scales let a sharp
/// decoder drive sigma to exp(-88), where it underflows (Ising fields at L = 32, T <= 1.8, diverged).
inline constexpr double kMinPosteriorScale = 1e-4;

/// An encoder's (or a conditional prior's) output [..., 2D] as N(loc, sigma^2): the first D entries are loc, the last D the
/// raw scale r, with sigma = sigma_min + e^r, i.e. log sigma = log sigma_min + softplus(r - log sigma_min)
/// (the identity log sigma = r for e^r >> sigma_min).
Normal posterior_from_raw(const Tensor& raw);

}  // namespace elbo::dist
