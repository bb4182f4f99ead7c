#include "elbo/data/lattice_map.h"

#include "elbo/core/check.h"

#include <cmath>

namespace elbo::data {

LatticeFeatures lattice_features(const Mat3& m) {
  for (const Vec3& row : m)
    for (double x : row) ELBO_CHECK(std::isfinite(x), "elbo::data::lattice_features: the lattice is not finite");
  const double vol = volume(m);
  ELBO_CHECK(vol > 0 && std::isfinite(vol), "elbo::data::lattice_features: the lattice spans no volume (", vol, " A^3)");
  // The Cholesky factor of G = M M^T is M in the orthonormal frame e1 = a / |a|, e3 = a x b / |a x b|,
  // e2 = e3 x e1 (L = M [e1 e2 e3]): cross products rather than differences of squares, accurate
  // for needle-like and flat cells.
  const Vec3& a = m[0];
  const Vec3& b = m[1];
  const Vec3& c = m[2];
  const double l11 = norm(a);
  const Vec3 e1{a[0] / l11, a[1] / l11, a[2] / l11};
  const Vec3 axb = cross(a, b);
  const double area = norm(axb);
  const Vec3 e3{axb[0] / area, axb[1] / area, axb[2] / area};
  const Vec3 e2 = cross(e3, e1);
  const double l21 = dot(b, e1), l22 = area / l11, l31 = dot(c, e1), l32 = dot(c, e2);
  const double l33 = vol / (l11 * l22);
  ELBO_CHECK(l11 > 0 && l22 > 0 && l33 > 0 && std::isfinite(l21) && std::isfinite(l32) && std::isfinite(l33),
             "elbo::data::lattice_features: the lattice's metric is not positive definite (a degenerate cell)");
  return {std::log(l11), std::log(l22), std::log(l33), l21 / l22, l31 / l33, l32 / l33};
}

Mat3 lattice_from_features(const LatticeFeatures& v) {
  const double l11 = std::exp(v[0]), l22 = std::exp(v[1]), l33 = std::exp(v[2]);
  return Mat3{Vec3{l11, 0, 0}, Vec3{v[3] * l22, l22, 0}, Vec3{v[4] * l33, v[5] * l33, l33}};
}

torch::Tensor lattice_from_features(const torch::Tensor& v) {
  ELBO_CHECK(v.dim() >= 1 && v.size(-1) == 6, "elbo::data::lattice_from_features: expected features [..., 6], got ",
             v.sizes());
  const torch::Tensor diag = v.narrow(-1, 0, 3).exp();
  const torch::Tensor l11 = diag.select(-1, 0), l22 = diag.select(-1, 1), l33 = diag.select(-1, 2);
  const torch::Tensor zero = torch::zeros_like(l11);
  const torch::Tensor a = torch::stack({l11, zero, zero}, -1);
  const torch::Tensor b = torch::stack({v.select(-1, 3) * l22, l22, zero}, -1);
  const torch::Tensor c = torch::stack({v.select(-1, 4) * l33, v.select(-1, 5) * l33, l33}, -1);
  return torch::stack({a, b, c}, -2);
}

torch::Tensor lattice_parameters(const torch::Tensor& lattice) {
  ELBO_CHECK(lattice.dim() >= 2 && lattice.size(-1) == 3 && lattice.size(-2) == 3,
             "elbo::data::lattice_parameters: expected lattices [..., 3, 3], got ", lattice.sizes());
  const torch::Tensor a = lattice.select(-2, 0), b = lattice.select(-2, 1), c = lattice.select(-2, 2);
  const torch::Tensor la = a.norm(2, -1), lb = b.norm(2, -1), lc = c.norm(2, -1);
  const auto angle = [](const torch::Tensor& u, const torch::Tensor& w, const torch::Tensor& lu, const torch::Tensor& lw) {
    return torch::rad2deg(torch::acos(((u * w).sum(-1) / (lu * lw)).clamp(-1.0, 1.0)));
  };
  return torch::stack({la, lb, lc, angle(b, c, lb, lc), angle(a, c, la, lc), angle(a, b, la, lb)}, -1);
}

Structure right_handed(Structure s) {
  if (determinant(s.lattice) >= 0) return s;
  for (double& x : s.lattice[2]) x = -x;
  for (Vec3& f : s.frac) f[2] = wrap_unit(-f[2]);
  return s;
}

}  // namespace elbo::data
