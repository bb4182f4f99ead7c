#include "elbo/data/dsprites.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace elbo::data {
namespace {

using torch::Tensor;

/// Box of half-size 0.8 (exact signed distance).
Tensor square_sdf(const Tensor& u, const Tensor& v) {
  const Tensor qx = u.abs() - 0.8, qy = v.abs() - 0.8;
  return torch::sqrt(qx.clamp_min(0).square() + qy.clamp_min(0).square()) + torch::maximum(qx, qy).clamp_max(0);
}

/// Ellipse with semi-axes 1 and 0.5: (k0 - 1) / |grad k0|, k0 = |(u / a, v / b)|
/// (first-order distance, exact on the boundary, which is all the anti-aliasing needs).
Tensor ellipse_sdf(const Tensor& u, const Tensor& v) {
  const double a = 1.0, b = 0.5;
  const Tensor k0 = torch::sqrt((u / a).square() + (v / b).square());
  const Tensor k1 = torch::sqrt((u / (a * a)).square() + (v / (b * b)).square());
  const Tensor ratio = torch::where(k1 > 1e-9, k0 / k1.clamp_min(1e-9), torch::full_like(k0, b));  // in [b, a]
  return (k0 - 1) * ratio;
}

/// Heart: two half-discs on a V (exact signed distance, I. Quilez's sdHeart),
/// upright, scaled by 1.6 and centred on its bounding box.
Tensor heart_sdf(const Tensor& u, const Tensor& v) {
  const double s = 1.6;
  const Tensor x = u.abs() / s, y = -v / s + 0.55;
  const Tensor lobe = torch::sqrt((x - 0.25).square() + (y - 0.75).square()) - std::sqrt(2.0) / 4;
  const Tensor m = 0.5 * (x + y).clamp_min(0);
  const Tensor to_v = torch::sqrt(torch::minimum(x.square() + (y - 1).square(), (x - m).square() + (y - m).square())) *
                      torch::sign(x - y);
  return torch::where(x + y > 1, lobe, to_v) * s;
}

}  // namespace

Tensor render_dsprites(const Tensor& factors) {
  ELBO_CHECK(factors.defined(), "elbo::data::render_dsprites: factors are undefined");
  ELBO_CHECK(factors.dim() == 2 && factors.size(1) == 5 && factors.scalar_type() == torch::kInt64,
             "elbo::data::render_dsprites: factors must be int64 [N, 5] (shape, scale, orientation, pos_x, pos_y), got ",
             factors.scalar_type(), " ", factors.sizes());
  const Tensor f = factors.cpu();
  for (int64_t k = 0; k < 5; ++k) {
    if (f.size(0) == 0) break;
    const int64_t lo = f.select(1, k).min().item<int64_t>(), hi = f.select(1, k).max().item<int64_t>();
    ELBO_CHECK(lo >= 0 && hi < kDspritesFactorSizes[k], "elbo::data::render_dsprites: factor '", kDspritesFactorNames[k],
               "' must be in [0, ", kDspritesFactorSizes[k], ") (got ", lo < 0 ? lo : hi, ")");
  }
  const Tensor centres = torch::arange(kDspritesSide, torch::kFloat64) + 0.5;  // pixel centres
  Tensor images = torch::empty({f.size(0), kDspritesSide, kDspritesSide}, torch::kFloat32);
  for (int64_t shape = 0; shape < 3; ++shape) {
    const Tensor rows = (f.select(1, 0) == shape).nonzero().view({-1});
    if (rows.numel() == 0) continue;
    const Tensor g = f.index_select(0, rows);
    auto column = [&](int64_t k) { return g.select(1, k).to(torch::kFloat64).view({-1, 1, 1}); };
    const Tensor radius = (0.5 + 0.1 * column(1)) * 6.0;  // half-size in pixels
    const Tensor angle = column(2) * (2 * kPi / 16);
    const Tensor cx = 8 + column(3) * (16.0 / 15), cy = 8 + column(4) * (16.0 / 15);
    const Tensor dx = centres.view({1, 1, -1}) - cx, dy = centres.view({1, -1, 1}) - cy;  // [n, H, W]
    const Tensor c = torch::cos(angle), s = torch::sin(angle);
    const Tensor u = (c * dx + s * dy) / radius, v = (c * dy - s * dx) / radius;  // shape-local, rotated
    const Tensor d = shape == 0 ? square_sdf(u, v) : shape == 1 ? ellipse_sdf(u, v) : heart_sdf(u, v);
    images.index_copy_(0, rows, (0.5 - d * radius).clamp(0, 1).to(torch::kFloat32));
  }
  return images.view({f.size(0), kDspritesSide * kDspritesSide});
}

Dataset make_dsprites(int64_t begin, int64_t end, uint64_t seed) {
  ELBO_CHECK(0 <= begin && begin <= end && end <= kDspritesCells, "elbo::data::make_dsprites: examples [", begin, ", ",
             end, ") are not within the ", kDspritesCells, " distinct factor combinations");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Tensor cell = torch::randperm(kDspritesCells, gen, torch::TensorOptions().dtype(torch::kInt64)).slice(0, begin, end);
  std::vector<Tensor> columns(5);
  for (int64_t k = 4; k >= 0; --k) {  // mixed radix, pos_y fastest
    columns[k] = cell.remainder(kDspritesFactorSizes[k]);
    cell = cell.div(kDspritesFactorSizes[k], "floor");
  }
  Dataset d;
  d.factors = torch::stack(columns, 1);
  d.factor_names = kDspritesFactorNames;
  d.factor_sizes = kDspritesFactorSizes;
  d.image = ImageShape{1, kDspritesSide, kDspritesSide};
  d.name = "dsprites";
  // Rendered in chunks to bound the memory of the [chunk, 32, 32] float64 intermediates.
  std::vector<Tensor> images;
  for (int64_t i = 0; i < d.factors.size(0); i += 1024) images.push_back(render_dsprites(d.factors.slice(0, i, i + 1024)));
  d.x = images.empty() ? torch::zeros({0, kDspritesSide * kDspritesSide}) : torch::cat(images);
  return d;
}

}  // namespace elbo::data
