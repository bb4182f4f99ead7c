#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// The wrapped normal on the unit circle [0, 1) (one per element: a product over the event axis is
/// a density on the torus, e.g. fractional coordinates of atoms in a crystal's unit cell; Jing et
/// al. 2022, torsional diffusion, use it on the torus):
///   p(x) = sum_{k in Z} N(x + k; loc, sigma^2),  sigma = exp(log_scale),
/// periodic in x and in loc with period 1, and a density on [0, 1) for every loc and sigma.
///
/// Evaluated with d = x - loc - round(x - loc) in [-1/2, 1/2] by whichever series converges fast:
///  - sigma < 0.3: the images k = -K..K, log p = logsumexp_k log N(d + k; 0, sigma^2); the first image
///    left out is >= K + 1/2 away, a relative error below exp(-((K + 1/2)^2 - 1/4) / (2 sigma^2))
///    (K = 1: 2e-5, K = 3: 1e-29);
///  - sigma >= 0.3: its Fourier series (Poisson summation, the Jacobi theta function),
///    p(x) = 1 + 2 sum_{n >= 1} exp(-2 pi^2 n^2 sigma^2) cos(2 pi n d), n = 1..6, taken as log1p(...);
///    the first term left out is below 2 exp(-98 pi^2 sigma^2) < 1e-37.
/// Each branch sees sigma clamped to its side, so the branch not taken stays finite and passes no
/// NaN into the gradient. Sampling is exact and reparameterized: x = frac(loc + sigma eps).
class WrappedNormal : public Distribution {
 public:
  /// images = K >= 1 (the images summed on each side where sigma < 0.3).
  WrappedNormal(Tensor loc, Tensor log_scale, int64_t images = 3);

  std::string name() const override { return "WrappedNormal"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  bool has_rsample() const override { return true; }
  /// frac(loc + sigma eps), eps ~ N(0, 1): values in [0, 1).
  Tensor rsample(int64_t k = 0) const override;
  /// The mode (and circular mean) frac(loc) in [0, 1): the arithmetic mean of a wrapped density
  /// is not a property of the circle.
  Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override;
  /// {loc, log_scale}, broadcast to the sample shape.
  std::vector<Tensor> parameters() const override;
  std::shared_ptr<Distribution> with_parameters(const std::vector<Tensor>& parameters) const override;

  const Tensor& loc() const { return loc_; }
  const Tensor& log_scale() const { return log_scale_; }
  int64_t images() const { return images_; }

  /// The scale at and above which the Fourier series is used.
  static constexpr double kFourierFrom = 0.3;

 private:
  Tensor loc_;
  Tensor log_scale_;
  int64_t images_;
};

}  // namespace elbo::dist
