#include "elbo/dist/laplace.h"

#include <cmath>

#include "elbo/core/check.h"
#include "detail.h"

namespace elbo::dist {

Laplace::Laplace(Tensor loc, Tensor log_scale) {
  const std::string who = "elbo::dist::Laplace";
  detail::check_parameter(loc, who, "loc");
  detail::check_parameter(log_scale, who, "log_scale");
  ELBO_CHECK(loc.device() == log_scale.device(), who, ": loc and log_scale are on different devices (",
             loc.device(), " vs ", log_scale.device(), ")");
  const auto shape = detail::broadcast_shapes(loc.sizes(), log_scale.sizes(), who, "loc and log_scale");
  loc_ = loc.expand(shape);
  log_scale_ = log_scale.expand(shape);
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

}  // namespace elbo::dist
