#include "elbo/dist/laplace.h"

#include <cmath>

#include "elbo/core/check.h"
#include "detail.h"

namespace elbo::dist {

Laplace::Laplace(Tensor loc, Tensor log_scale) : loc_(std::move(loc)), log_scale_(std::move(log_scale)) {
  detail::broadcast_loc_scale(loc_, log_scale_, "elbo::dist::Laplace");
}

Tensor Laplace::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, loc_.sizes(), "elbo::dist::Laplace");
  return -(x - loc_).abs() * (-log_scale_).exp() - log_scale_ - std::log(2.0);
}

/// Inverse CDF: z = loc - b sign(v) log(1 - |v|), v ~ U(-1, 1) kept off +-1.
Tensor Laplace::rsample(int64_t k) const {
  const double eps = detail::epsilon(loc_);
  const Tensor v = (2 * torch::rand(particle_shape(k), loc_.options()) - 1).clamp(eps - 1, 1 - eps);
  return loc_ - log_scale_.exp() * v.sign() * torch::log1p(-v.abs());
}

Tensor Laplace::entropy_elements() const { return log_scale_ + (1.0 + std::log(2.0)); }

std::vector<int64_t> Laplace::sample_shape() const { return loc_.sizes().vec(); }

std::vector<Tensor> Laplace::parameters() const {
  const auto shape = sample_shape();
  return {loc_.expand(shape), log_scale_.expand(shape)};
}

std::shared_ptr<Distribution> Laplace::with_parameters(const std::vector<Tensor>& p) const {
  ELBO_CHECK(p.size() == 2, "elbo::dist::Laplace::with_parameters: expected loc and log_scale (got ", p.size(), " tensors)");
  return std::make_shared<Laplace>(p[0], p[1]);
}

}  // namespace elbo::dist
