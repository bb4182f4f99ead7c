#include "elbo/model/crystal_coordinates.h"

#include "elbo/core/check.h"
#include "elbo/dist/normal.h"
#include "elbo/dist/wrapped_normal.h"

#include <torch/utils.h>

namespace elbo::model {

AutoregressiveCoordinates::AutoregressiveCoordinates(Conditional conditional, std::vector<int64_t> shape, bool wrapped,
                                                     int64_t images)
    : conditional_(std::move(conditional)), shape_(std::move(shape)), wrapped_(wrapped), images_(images) {
  ELBO_CHECK(conditional_ && !shape_.empty() && shape_.back() >= 3 && shape_.back() % 3 == 0,
             "elbo::model::AutoregressiveCoordinates: needs a conditional and a sample shape [..., 3N], got ",
             c10::IntArrayRef(shape_));
}

dist::DistributionPtr AutoregressiveCoordinates::factor(const Tensor& loc, const Tensor& log_scale) const {
  if (wrapped_) return std::make_shared<dist::WrappedNormal>(loc, log_scale, images_);
  return std::make_shared<dist::Normal>(loc, log_scale);
}

Tensor AutoregressiveCoordinates::log_prob_elements(const Tensor& x) const {
  ELBO_CHECK(x.dim() >= 1 && x.size(-1) == shape_.back(), "elbo::model::", name(), "::log_prob: expected [..., ",
             shape_.back(), "] coordinates, got ", x.sizes());
  const auto [loc, log_scale] = conditional_(x);
  return factor(loc, log_scale)->log_prob_elements(x);
}

Tensor AutoregressiveCoordinates::decode(int64_t k, bool draw) const {
  torch::NoGradGuard no_grad;
  const int64_t n = atoms();
  Tensor f = torch::zeros(particle_shape(k));
  for (int64_t i = 0; i < n; ++i) {
    const auto [loc, log_scale] = conditional_(f);  // atoms < i are final; atom i's values read only them
    if (f.scalar_type() != loc.scalar_type() || f.device() != loc.device()) f = f.to(loc.options());
    const dist::DistributionPtr p = factor(loc.narrow(-1, 3 * i, 3), log_scale.narrow(-1, 3 * i, 3));
    f.narrow(-1, 3 * i, 3).copy_(draw ? p->sample() : p->mean());
  }
  return f;
}

Tensor AutoregressiveCoordinates::sample(int64_t k) const { return decode(k, true); }

Tensor AutoregressiveCoordinates::mean() const { return decode(0, false); }

}  // namespace elbo::model
