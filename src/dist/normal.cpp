#include "elbo/dist/normal.h"

#include <cmath>

#include "elbo/core/batch_shard.h"
#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "detail.h"

namespace elbo::dist {
namespace {
}

Normal::Normal(Tensor loc, Tensor log_scale) : loc_(std::move(loc)), log_scale_(std::move(log_scale)) {
  detail::broadcast_loc_scale(loc_, log_scale_, "elbo::dist::Normal");
}

Normal Normal::with_scale(const Tensor& loc, double scale) {
  ELBO_CHECK(scale > 0 && std::isfinite(scale),
             "elbo::dist::Normal::with_scale: scale must be positive and finite (got ", scale, ")");
  detail::check_parameter(loc, "elbo::dist::Normal::with_scale", "loc");
  return Normal(loc, torch::full_like(loc, std::log(scale)));
}

Normal posterior_from_raw(const Tensor& raw) {
  ELBO_CHECK(raw.dim() >= 1 && raw.size(-1) % 2 == 0, "elbo::dist::posterior_from_raw: expected an encoder output "
             "[..., 2D] (mean and raw scale), got ", raw.sizes());
  const auto parts = raw.chunk(2, -1);
  const double floor = std::log(kMinPosteriorScale);
  return Normal(parts[0], floor + detail::softplus(parts[1] - floor));
}

Tensor Normal::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, loc_.sizes(), "elbo::dist::Normal");
  const Tensor z = (x - loc_) * (-log_scale_).exp();
  return -0.5 * z.square() - log_scale_ - kHalfLog2Pi;
}

Tensor Normal::rsample(int64_t k) const {
  // randn_batch: in a data-parallel step, this rank's rows of the global batch's noise.
  const Tensor eps = randn_batch(particle_shape(k), loc_.options());
  return loc_ + log_scale_.exp() * eps;
}

Tensor Normal::entropy_elements() const { return log_scale_ + (0.5 + kHalfLog2Pi); }

std::vector<int64_t> Normal::sample_shape() const { return loc_.sizes().vec(); }

std::vector<Tensor> Normal::parameters() const {
  const auto shape = sample_shape();
  return {loc_.expand(shape), log_scale_.expand(shape)};
}

std::shared_ptr<Distribution> Normal::with_parameters(const std::vector<Tensor>& p) const {
  ELBO_CHECK(p.size() == 2, "elbo::dist::Normal::with_parameters: expected loc and log_scale (got ", p.size(), " tensors)");
  return std::make_shared<Normal>(p[0], p[1]);
}

}  // namespace elbo::dist
