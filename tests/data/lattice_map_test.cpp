// The lattice parameterization: every six numbers give a positive-definite metric (positive
// volume), extreme ones included; lattices round-trip up to rotation; left-handed cells keep their atoms.
#include "elbo/data/lattice_map.h"

#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace elbo::data {
namespace {

double dot(const Vec3& u, const Vec3& v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

/// Expects M M^T (the metric, rotation-free) of two lattices to agree to a relative tolerance.
void expect_same_metric(const Mat3& a, const Mat3& b, double tolerance) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double scale = std::sqrt(dot(a[i], a[i]) * dot(a[j], a[j]));
      EXPECT_NEAR(dot(a[i], a[j]), dot(b[i], b[j]), tolerance * scale) << "G[" << i << "][" << j << "]";
    }
}

/// A rotation about a random axis.
Mat3 random_rotation(std::mt19937_64& gen) {
  std::normal_distribution<double> n;
  Vec3 axis{n(gen), n(gen), n(gen)};
  const double len = norm(axis);
  for (double& x : axis) x /= len;
  const double t = std::uniform_real_distribution<double>(0, 2 * M_PI)(gen), c = std::cos(t), s = std::sin(t);
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int k = 3 - i - j;
      const double cross = i == j ? 0 : ((j - i + 3) % 3 == 1 ? -1.0 : 1.0) * axis[k];
      r[i][j] = (i == j ? c : 0) + (1 - c) * axis[i] * axis[j] + s * cross;
    }
  return r;
}

Mat3 multiply(const Mat3& a, const Mat3& b) {
  Mat3 out{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) out[i][j] += a[i][k] * b[k][j];
  return out;
}

TEST(LatticeMap, EverySixNumbersGiveAPositiveDefiniteMetric) {
  std::mt19937_64 gen(11);
  for (double spread : {0.1, 1.0, 5.0, 30.0, 100.0}) {
    std::normal_distribution<double> n(0, spread);
    for (int trial = 0; trial < 200; ++trial) {
      LatticeFeatures v;
      for (double& x : v) x = n(gen);
      for (int k = 0; k < 3; ++k) v[k] = std::clamp(v[k], -100.0, 100.0);  // metric entries stay within double
      const Mat3 L = lattice_from_features(v);
      const double det = determinant(L);
      // det = L11 L22 L33 = exp(v0 + v1 + v2), never 0 or negative.
      EXPECT_GT(det, 0.0) << "spread " << spread;
      EXPECT_NEAR(std::log(det), v[0] + v[1] + v[2], 1e-9 * (1 + std::abs(v[0] + v[1] + v[2])));
      // Sylvester: the leading minors of G = L L^T are positive.
      const double g00 = dot(L[0], L[0]), g01 = dot(L[0], L[1]), g11 = dot(L[1], L[1]);
      EXPECT_GT(g00, 0.0);
      EXPECT_GT(g00 * g11 - g01 * g01, 0.0);
    }
  }
  // Extremes: huge shears, tiny and huge cells.
  for (const LatticeFeatures& v : {LatticeFeatures{-700, -700, -700, 0, 0, 0}, LatticeFeatures{700, 700, -700, 1e300, -1e300, 1e300},
                                   LatticeFeatures{0, 0, 0, 1e8, -1e8, 1e8}, LatticeFeatures{-1e-300, 1e-300, 0, 0, 0, 0}}) {
    const Mat3 L = lattice_from_features(v);
    EXPECT_GT(L[0][0], 0.0);
    EXPECT_GT(L[1][1], 0.0);
    EXPECT_GT(L[2][2], 0.0);
    EXPECT_EQ(L[0][1], 0.0);
    EXPECT_EQ(L[0][2], 0.0);
    EXPECT_EQ(L[1][2], 0.0);
  }
}

TEST(LatticeMap, TensorMapEqualsTheDoubleMap) {
  std::mt19937_64 gen(2);
  std::normal_distribution<double> n(0, 2);
  torch::Tensor v = torch::empty({20, 6}, torch::kDouble);
  for (int64_t i = 0; i < 20; ++i)
    for (int64_t k = 0; k < 6; ++k) v[i][k] = n(gen);
  const torch::Tensor L = lattice_from_features(v);
  ASSERT_EQ(L.sizes(), (std::vector<int64_t>{20, 3, 3}));
  const torch::Tensor p = lattice_parameters(L);
  for (int64_t i = 0; i < 20; ++i) {
    LatticeFeatures f;
    for (int k = 0; k < 6; ++k) f[k] = v[i][k].item<double>();
    const Mat3 expected = lattice_from_features(f);
    const LatticeParameters q = data::lattice_parameters(expected);
    const double params[] = {q.a, q.b, q.c, q.alpha, q.beta, q.gamma};
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) EXPECT_DOUBLE_EQ(L[i][r][c].item<double>(), expected[r][c]);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(p[i][k].item<double>(), params[k], 1e-9 * std::abs(params[k]));
  }
}

TEST(LatticeMap, RoundTripsLatticesUpToRotation) {
  std::mt19937_64 gen(7);
  std::vector<Mat3> lattices = {lattice_from_parameters({5.64, 5.64, 5.64, 90, 90, 90}),
                                lattice_from_parameters({3.25, 3.25, 5.21, 90, 90, 120}),
                                lattice_from_parameters({4.9, 5.1, 5.4, 95.3, 104.1, 78.2}),
                                lattice_from_parameters({1e-3, 1e3, 2e3, 90, 90, 90}),
                                lattice_from_parameters({1, 1, 1e3, 90, 90, 0.01})};
  for (const Mat3& standard : lattices) {
    // The standard orientation comes back as it is.
    const Mat3 back = lattice_from_features(lattice_features(standard));
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(back[r][c], standard[r][c], 1e-9 * norm(standard[r]));
    // A rotated copy gives the same features, and its metric comes back.
    const Mat3 rotated = multiply(standard, random_rotation(gen));
    const LatticeFeatures a = lattice_features(standard), b = lattice_features(rotated);
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(a[k], b[k], 1e-8 * (1 + std::abs(a[k])));
    expect_same_metric(lattice_from_features(b), rotated, 1e-10);
  }
}

TEST(LatticeMap, RightHandedKeepsEveryAtomInPlace) {
  Structure s;
  s.lattice = Mat3{Vec3{4.0, 0.3, 0.1}, Vec3{0.2, 5.0, 0.4}, Vec3{0.3, -0.2, -6.0}};  // det < 0
  s.species = {8, 14, 14};
  s.frac = {Vec3{0.1, 0.2, 0.3}, Vec3{0.5, 0.5, 0.0}, Vec3{0.9, 0.05, 0.75}};
  ASSERT_LT(determinant(s.lattice), 0);
  const Structure r = right_handed(s);
  EXPECT_GT(determinant(r.lattice), 0);
  for (size_t i = 0; i < s.frac.size(); ++i) {
    const Vec3 before = cartesian(s.lattice, s.frac[i]);
    const Vec3 df = fractional(r.lattice, Vec3{before[0], before[1], before[2]});
    const Vec3 diff{df[0] - r.frac[i][0], df[1] - r.frac[i][1], df[2] - r.frac[i][2]};
    EXPECT_NEAR(minimum_image_distance(r.lattice, diff), 0.0, 1e-12) << "atom " << i;
  }
  EXPECT_EQ(right_handed(r).lattice, r.lattice);  // already right-handed: unchanged
}

TEST(LatticeMap, RefusesALatticeWithoutVolume) {
  const Mat3 flat{Vec3{1, 0, 0}, Vec3{0, 1, 0}, Vec3{1, 1, 0}};
  test::expect_invalid_argument([&] { lattice_features(flat); }, {"spans no volume"});
  const Mat3 nan{Vec3{NAN, 0, 0}, Vec3{0, 1, 0}, Vec3{0, 0, 1}};
  test::expect_invalid_argument([&] { lattice_features(nan); }, {"not finite"});
  test::expect_invalid_argument([&] { lattice_from_features(torch::zeros({2, 5})); }, {"expected features [..., 6]"});
}

}  // namespace
}  // namespace elbo::data
