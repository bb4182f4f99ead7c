#include "elbo/dist/wrapped_normal.h"

#include <cmath>

#include "elbo/core/batch_shard.h"
#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "detail.h"

namespace elbo::dist {
namespace {

constexpr int64_t kFourierTerms = 6;

/// x - floor(x) in [0, 1) (remainder(-tiny, 1) rounds to 1, which is 0 on the circle).
Tensor wrap(const Tensor& x) {
  const Tensor r = torch::remainder(x, 1.0);
  return torch::where(r >= 1.0, torch::zeros_like(r), r);
}

}  // namespace

WrappedNormal::WrappedNormal(Tensor loc, Tensor log_scale, int64_t images)
    : loc_(std::move(loc)), log_scale_(std::move(log_scale)), images_(images) {
  detail::broadcast_loc_scale(loc_, log_scale_, "elbo::dist::WrappedNormal");
  ELBO_CHECK(images >= 1, "elbo::dist::WrappedNormal: images must be >= 1 (got ", images, ")");
}

Tensor WrappedNormal::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, loc_.sizes(), "elbo::dist::WrappedNormal");
  Tensor d = x - loc_;
  d = d - torch::round(d.detach());  // in [-1/2, 1/2]; the shift is an integer, so no gradient through it
  const double split = std::log(kFourierFrom);
  // Images: sigma clamped below the split.
  const Tensor log_s_images = log_scale_.clamp_max(split);
  const Tensor inv_s = (-log_s_images).exp();
  std::vector<Tensor> terms;
  for (int64_t k = -images_; k <= images_; ++k) {
    const Tensor u = (d + static_cast<double>(k)) * inv_s;
    terms.push_back(-0.5 * u.square());
  }
  const Tensor images = torch::logsumexp(torch::stack(terms, 0), 0) - log_s_images - kHalfLog2Pi;
  // Fourier series: sigma clamped at or above the split.
  const Tensor var = (2 * log_scale_.clamp_min(split)).exp();
  Tensor series = torch::zeros_like(images);
  for (int64_t n = 1; n <= kFourierTerms; ++n) {
    const double nn = static_cast<double>(n);
    series = series + (-2 * M_PI * M_PI * nn * nn * var).exp() * torch::cos((2 * M_PI * nn) * d);
  }
  const Tensor fourier = torch::log1p(2 * series);
  return torch::where(log_scale_ < split, images, fourier);
}

Tensor WrappedNormal::rsample(int64_t k) const {
  const Tensor eps = randn_batch(particle_shape(k), loc_.options());
  const Tensor y = loc_ + log_scale_.exp() * eps;
  const Tensor r = y - torch::floor(y.detach());  // an integer shift: the gradient of y passes unchanged
  return torch::where(r >= 1.0, r - 1.0, r);        // y = -tiny rounds to 1
}

Tensor WrappedNormal::mean() const { return wrap(loc_); }

std::vector<int64_t> WrappedNormal::sample_shape() const { return loc_.sizes().vec(); }

std::vector<Tensor> WrappedNormal::parameters() const {
  const auto shape = sample_shape();
  return {loc_.expand(shape), log_scale_.expand(shape)};
}

std::shared_ptr<Distribution> WrappedNormal::with_parameters(const std::vector<Tensor>& p) const {
  ELBO_CHECK(p.size() == 2, "elbo::dist::WrappedNormal::with_parameters: expected loc and log_scale (got ", p.size(),
             " tensors)");
  return std::make_shared<WrappedNormal>(p[0], p[1], images_);
}

}  // namespace elbo::dist
