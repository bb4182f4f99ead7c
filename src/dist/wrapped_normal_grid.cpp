#include "elbo/dist/wrapped_normal_grid.h"

#include "elbo/core/check.h"
#include "elbo/dist/wrapped_normal.h"
#include "detail.h"

#include <cmath>

namespace elbo::dist {

WrappedNormalGrid::WrappedNormalGrid(Tensor log_weights, Tensor loc, Tensor log_scale, int64_t grid, int64_t images)
    : grid_(grid), images_(images) {
  const std::string who = "elbo::dist::WrappedNormalGrid";
  detail::check_parameter(log_weights, who, "log_weights");
  detail::broadcast_loc_scale(loc, log_scale, who);
  ELBO_CHECK(grid >= 1 && images >= 1, who, ": grid and images must be >= 1 (got ", grid, " and ", images, ")");
  ELBO_CHECK(loc.dim() >= 1, who, ": expected loc [..., D], got ", loc.sizes());
  const int64_t d = loc.size(-1);
  const double components = std::pow(static_cast<double>(grid), static_cast<double>(d));
  ELBO_CHECK(log_weights.dim() >= 1 && static_cast<double>(log_weights.size(-1)) == components, who,
             ": expected log_weights [..., G^D] = [..., ", static_cast<int64_t>(components), "] for G = ", grid,
             " and D = ", d, ", got ", log_weights.sizes());
  // Broadcast the batch axes of the weights and the locations.
  std::vector<int64_t> batch = detail::broadcast_shapes(log_weights.sizes().slice(0, log_weights.dim() - 1),
                                                        loc.sizes().slice(0, loc.dim() - 1), who,
                                                        "log_weights and loc batch");
  std::vector<int64_t> point = batch, weights = batch;
  point.push_back(d);
  weights.push_back(log_weights.size(-1));
  loc_ = loc.expand(point);
  log_scale_ = log_scale.expand(point);
  log_weights_ = torch::log_softmax(log_weights.expand(weights), -1);
}

Tensor WrappedNormalGrid::log_prob_sum(const Tensor& x) const {
  detail::check_value(x, loc_.sizes(), "elbo::dist::WrappedNormalGrid");
  const int64_t d = loc_.size(-1);
  // Per axis, the G component densities: log WN(x_d; loc_d + g / G, sigma_d) [..., D, G].
  const Tensor offsets = torch::arange(grid_, loc_.options()) / static_cast<double>(grid_);
  const Tensor per_axis =
      WrappedNormal(loc_.unsqueeze(-1) + offsets, log_scale_.unsqueeze(-1), images_).log_prob_elements(x.unsqueeze(-1));
  // sum_d over the grid, flattened row-major (axis 1 slowest): [..., G^D].
  Tensor component = per_axis.select(-2, 0);
  for (int64_t axis = 1; axis < d; ++axis)
    component = (component.unsqueeze(-1) + per_axis.select(-2, axis).unsqueeze(-2)).flatten(-2);
  return torch::logsumexp(log_weights_ + component, -1);
}

Tensor WrappedNormalGrid::log_prob_elements(const Tensor& x) const {
  const Tensor log_p = log_prob_sum(x).unsqueeze(-1);
  std::vector<int64_t> shape = log_p.sizes().vec();
  shape.back() = loc_.size(-1);
  return (log_p / static_cast<double>(shape.back())).expand(shape);
}

Tensor WrappedNormalGrid::component_loc(const Tensor& index) const {
  const int64_t d = loc_.size(-1);
  std::vector<Tensor> digits(d);
  Tensor rest = index;
  for (int64_t axis = d - 1; axis >= 0; --axis) {  // row-major: the last axis fastest
    digits[axis] = torch::remainder(rest, grid_);
    rest = torch::div(rest, grid_, "floor");
  }
  return loc_ + torch::stack(digits, -1).to(loc_.scalar_type()) / static_cast<double>(grid_);
}

/// Gumbel-max for the component, argmax_g (log pi_g + e_g), then a wrapped normal draw.
Tensor WrappedNormalGrid::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> shape = particle_shape(k);  // [k..., ..., D]
  shape.back() = log_weights_.size(-1);
  const Tensor u = torch::rand(shape, log_weights_.options()).clamp_min(detail::epsilon(log_weights_));
  const Tensor index = (log_weights_ - (-u.log()).log()).argmax(-1);
  return WrappedNormal(component_loc(index), log_scale_, images_).sample();
}

Tensor WrappedNormalGrid::mean() const {
  return WrappedNormal(component_loc(log_weights_.argmax(-1)), log_scale_, images_).mean();
}

}  // namespace elbo::dist
