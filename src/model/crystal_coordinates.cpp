#include "elbo/model/crystal_coordinates.h"

#include "elbo/core/check.h"
#include "elbo/dist/normal.h"
#include "elbo/dist/wrapped_normal.h"
#include "elbo/dist/wrapped_normal_grid.h"

#include <torch/utils.h>

namespace elbo::model {

AutoregressiveCoordinates::AutoregressiveCoordinates(Conditional conditional, std::vector<int64_t> shape, bool wrapped,
                                                     int64_t images, int64_t grid)
    : conditional_(std::move(conditional)), shape_(std::move(shape)), wrapped_(wrapped), images_(images), grid_(grid) {
  ELBO_CHECK(grid_ >= 1 && (grid_ == 1 || wrapped_),
             "elbo::model::AutoregressiveCoordinates: a grid of places (G = ", grid_, ") needs wrapped normal factors");
  ELBO_CHECK(conditional_ && !shape_.empty() && shape_.back() >= 3 && shape_.back() % 3 == 0,
             "elbo::model::AutoregressiveCoordinates: needs a conditional and a sample shape [..., 3N], got ",
             c10::IntArrayRef(shape_));
}

dist::DistributionPtr AutoregressiveCoordinates::factor(const Factors& factors) const {
  if (grid_ > 1)
    return std::make_shared<dist::WrappedNormalGrid>(factors.log_weights, factors.loc, factors.log_scale, grid_, images_);
  if (wrapped_) return std::make_shared<dist::WrappedNormal>(factors.loc, factors.log_scale, images_);
  return std::make_shared<dist::Normal>(factors.loc, factors.log_scale);
}

Tensor AutoregressiveCoordinates::log_prob_elements(const Tensor& x) const {
  ELBO_CHECK(x.dim() >= 1 && x.size(-1) == shape_.back(), "elbo::model::", name(), "::log_prob: expected [..., ",
             shape_.back(), "] coordinates, got ", x.sizes());
  const Factors factors = conditional_(x);
  std::vector<int64_t> points = x.sizes().vec();
  points.back() = atoms();
  points.push_back(3);
  const Tensor log_p = factor(factors)->log_prob_elements(x.reshape(points));  // [..., N, 3]
  std::vector<int64_t> flat = log_p.sizes().vec();
  flat.pop_back();
  flat.back() *= 3;
  return log_p.reshape(flat);
}

Tensor AutoregressiveCoordinates::decode(int64_t k, bool draw) const {
  torch::NoGradGuard no_grad;
  const int64_t n = atoms();
  Tensor f = torch::zeros(particle_shape(k));
  for (int64_t i = 0; i < n; ++i) {
    const Factors all = conditional_(f);  // atoms < i are final; atom i's factor reads only them
    if (f.scalar_type() != all.loc.scalar_type() || f.device() != all.loc.device()) f = f.to(all.loc.options());
    const dist::DistributionPtr p =
        factor({all.log_weights.narrow(-2, i, 1), all.loc.narrow(-2, i, 1), all.log_scale.narrow(-2, i, 1)});
    const Tensor point = draw ? p->sample() : p->mean();  // [..., 1, 3]
    f.narrow(-1, 3 * i, 3).copy_(point.reshape(f.narrow(-1, 3 * i, 3).sizes()));
  }
  return f;
}

Tensor AutoregressiveCoordinates::sample(int64_t k) const { return decode(k, true); }

Tensor AutoregressiveCoordinates::mean() const { return decode(0, false); }

Tensor occupied_grid(const Tensor& mu, int64_t grid, const Tensor& f, const Tensor& width) {
  const int64_t n = mu.size(-2);
  ELBO_CHECK(mu.dim() >= 2 && mu.size(-1) == 3 && f.size(-1) == 3 * n && width.size(-1) == n && grid >= 1,
             "elbo::model::occupied_grid: expected mu [..., N, 3], f [..., 3N], width [..., N] and grid >= 1, got ",
             mu.sizes(), ", ", f.sizes(), ", ", width.sizes(), " and ", grid);
  const Tensor offsets = torch::arange(grid, mu.options()) / static_cast<double>(grid);     // [G]
  const Tensor places = mu.unsqueeze(-1) + offsets;                                            // [..., N (i), 3, G]
  const Tensor atoms = f.unflatten(-1, {n, 3}).unsqueeze(-1).unsqueeze(-4);                   // [..., 1, N (j), 3, 1]
  Tensor d = places.unsqueeze(-3) - atoms;                                                     // [..., N, N, 3, G]
  d = d - torch::round(d.detach());  // an integer shift per axis: no gradient through it
  const Tensor b = width.unsqueeze(-1).unsqueeze(-1).unsqueeze(-1);                            // [..., N, 1, 1, 1]
  const Tensor earlier = torch::ones({n, n}, mu.options()).tril(-1).unsqueeze(-1).unsqueeze(-1);  // j < i
  const Tensor kernel = torch::exp(-d.square() / (2 * b.square())) * earlier;                 // [..., N, N, 3, G]
  return torch::einsum("...jx,...jy,...jz->...xyz",
                       {kernel.select(-2, 0), kernel.select(-2, 1), kernel.select(-2, 2)});
}

}  // namespace elbo::model
