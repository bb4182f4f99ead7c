// The grid mixture of wrapped normals on the 3-torus: the explicit mixture over its G^3 components
// (brute force), a density on the cell (quadrature), periodic, exact gradients, samples with the exact
// circular moments of the mixture, the mode of the most probable component, G = 1, shapes.
#include "elbo/dist/wrapped_normal_grid.h"

#include "elbo/dist/wrapped_normal.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/finite_difference.h"
#include "support/monte_carlo.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

/// G = 3 on the 3-torus: 27 uneven weights, a location across the cell's faces, scales on both sides of
/// the wrapped normal's series switch (0.3).
struct Parameters {
  int64_t grid = 3;
  torch::Tensor log_weights = torch::linspace(-2.0, 1.5, 27, f64).sin() * 2;
  torch::Tensor loc = torch::tensor({0.97, -1.4, 0.2}, f64);
  torch::Tensor log_scale = torch::tensor({0.05, 0.08, 0.35}, f64).log();
};

/// log sum_g pi_g prod_d WN(x_d; loc_d + g_d / G, sigma_d), component by component.
torch::Tensor explicit_mixture(const Parameters& p, const torch::Tensor& x) {
  const torch::Tensor log_pi = torch::log_softmax(p.log_weights, 0);
  std::vector<torch::Tensor> terms;
  for (int64_t a = 0; a < p.grid; ++a)
    for (int64_t b = 0; b < p.grid; ++b)
      for (int64_t c = 0; c < p.grid; ++c) {
        const torch::Tensor loc = p.loc + torch::tensor({double(a), double(b), double(c)}, f64) / double(p.grid);
        terms.push_back(log_pi[(a * p.grid + b) * p.grid + c] + WrappedNormal(loc, p.log_scale).log_prob(x));
      }
  return torch::logsumexp(torch::stack(terms, -1), -1);
}

TEST(WrappedNormalGrid, IsTheExplicitMixtureOfItsComponents) {
  const Parameters p;
  const WrappedNormalGrid d(p.log_weights, p.loc, p.log_scale, p.grid);
  const torch::Tensor x = torch::rand({40, 3}, f64);
  EXPECT_TRUE(torch::allclose(d.log_prob_sum(x), explicit_mixture(p, x), 1e-12, 1e-12));
  // Each entry of a point carries a third of its log-density.
  EXPECT_TRUE(torch::allclose(d.log_prob_elements(x).sum(-1), d.log_prob_sum(x), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(d.log_prob(x), d.log_prob_sum(x), 1e-12, 1e-12));
}

TEST(WrappedNormalGrid, OnePlaceIsTheProductOfItsWrappedNormals) {
  const Parameters p;
  const WrappedNormalGrid d(torch::tensor({0.7}, f64), p.loc, p.log_scale, 1);
  const WrappedNormal product(p.loc, p.log_scale);
  const torch::Tensor x = torch::rand({40, 3}, f64);
  EXPECT_TRUE(torch::allclose(d.log_prob_sum(x), product.log_prob(x), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(d.mean(), product.mean()));
}

TEST(WrappedNormalGrid, IntegratesToOneOnTheCell) {
  // The periodic trapezoid rule on an n^3 grid: error about exp(-2 pi^2 (n sigma)^2) per axis, below
  // 1e-12 for sigma >= 0.05 and n = 64.
  const int64_t n = 64;
  const torch::Tensor t = torch::arange(n, f64) / static_cast<double>(n);
  const auto axes = torch::meshgrid({t, t, t}, "ij");
  const torch::Tensor x = torch::stack({axes[0].reshape(-1), axes[1].reshape(-1), axes[2].reshape(-1)}, -1);
  for (int64_t grid : {1, 2, 3, 5}) {
    Parameters p;
    p.grid = grid;
    p.log_weights = torch::linspace(-1.0, 2.0, grid * grid * grid, f64).cos() * 3;
    const WrappedNormalGrid d(p.log_weights, p.loc, p.log_scale, grid);
    EXPECT_NEAR(d.log_prob_sum(x).exp().mean().item<double>(), 1.0, 1e-10) << "G " << grid;
  }
}

TEST(WrappedNormalGrid, IsInvariantToIntegerShifts) {
  const Parameters p;
  const WrappedNormalGrid d(p.log_weights, p.loc, p.log_scale, p.grid);
  const torch::Tensor x = torch::tensor({{0.21, 0.69, 0.52}, {0.99, 0.0, 0.4}, {0.5, 0.5, 0.5}}, f64);
  const torch::Tensor base = d.log_prob_sum(x);
  for (double m : {-3.0, -1.0, 1.0, 5.0}) {
    EXPECT_TRUE(torch::allclose(d.log_prob_sum(x + m), base, 1e-12, 1e-12)) << "x + " << m;
    const WrappedNormalGrid shifted(p.log_weights, p.loc + m, p.log_scale, p.grid);
    EXPECT_TRUE(torch::allclose(shifted.log_prob_sum(x), base, 1e-12, 1e-12)) << "loc + " << m;
    // Adding a constant to every log-weight changes nothing (they are normalized).
    const WrappedNormalGrid reweighted(p.log_weights + m, p.loc, p.log_scale, p.grid);
    EXPECT_TRUE(torch::allclose(reweighted.log_prob_sum(x), base, 1e-12, 1e-12)) << "log_weights + " << m;
  }
}

TEST(WrappedNormalGrid, GradientsMatchFiniteDifferences) {
  // log p of a few points with respect to every log-weight, location and log-scale, in float64.
  const Parameters p0;
  const torch::Tensor params = torch::cat({p0.log_weights, p0.loc, p0.log_scale});
  const torch::Tensor x = torch::tensor({{0.21, 0.69, 0.52}, {0.99, 0.02, 0.4}, {0.45, 0.5, 0.3}}, f64);
  const auto f = [&](const torch::Tensor& p) {
    const WrappedNormalGrid d(p.narrow(0, 0, 27), p.narrow(0, 27, 3), p.narrow(0, 30, 3), 3);
    return d.log_prob_sum(x).sum();
  };
  const torch::Tensor fd = test::finite_difference_gradient([&](const torch::Tensor& p) { return f(p).item<double>(); },
                                                            params);
  const torch::Tensor ad = test::autograd_gradient(f, params);
  EXPECT_TRUE(torch::allclose(ad, fd, 1e-6, 1e-7)) << ad << "\n" << fd;
}

TEST(WrappedNormalGrid, SamplesHaveTheExactCircularMomentsOfTheMixture) {
  // E[cos 2 pi x_d] = sum_g pi_g exp(-2 pi^2 sigma_d^2) cos(2 pi (loc_d + g_d / G)), likewise sin, and
  // E[cos 2 pi x_1 cos 2 pi x_2], which a product of per-axis mixtures would get wrong.
  torch::manual_seed(4);
  const Parameters p;
  const WrappedNormalGrid d(p.log_weights, p.loc, p.log_scale, p.grid);
  const torch::Tensor x = d.sample(200000);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{200000, 3}));
  EXPECT_GE(x.min().item<double>(), 0.0);
  EXPECT_LT(x.max().item<double>(), 1.0);
  const torch::Tensor pi = torch::softmax(p.log_weights, 0);                              // [27]
  const torch::Tensor loc = d.component_loc(torch::arange(27, torch::kLong));             // [27, 3]
  const torch::Tensor damp = (-2 * M_PI * M_PI * (2 * p.log_scale).exp()).exp();         // [3]
  const torch::Tensor cos_g = damp * torch::cos(2 * M_PI * loc), sin_g = damp * torch::sin(2 * M_PI * loc);
  const torch::Tensor c = torch::cos(2 * M_PI * x), s = torch::sin(2 * M_PI * x);
  test::expect_within_standard_errors(c.mean(0), (pi.unsqueeze(-1) * cos_g).sum(0), test::standard_error(c));
  test::expect_within_standard_errors(s.mean(0), (pi.unsqueeze(-1) * sin_g).sum(0), test::standard_error(s));
  const torch::Tensor cc = c.select(1, 0) * c.select(1, 1);
  test::expect_within_standard_errors(cc.mean(), (pi * cos_g.select(1, 0) * cos_g.select(1, 1)).sum(),
                                      test::standard_error(cc));
}

TEST(WrappedNormalGrid, ModeOfTheMostProbableComponentAndShapes) {
  Parameters p;
  p.log_weights = torch::zeros({27}, f64);
  p.log_weights[(2 * 3 + 0) * 3 + 1] = 5.0;  // component (2, 0, 1)
  // A batch of 2 x 4 points sharing the weights.
  const WrappedNormalGrid d(p.log_weights, p.loc.expand({2, 4, 3}), p.log_scale, p.grid);
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{2, 4, 3}));
  EXPECT_EQ(d.grid(), 3);
  // frac(0.97 + 2/3, -1.4, 0.2 + 1/3)
  EXPECT_TRUE(torch::allclose(d.mean()[1][3], torch::tensor({0.97 + 2.0 / 3 - 1, 0.6, 0.2 + 1.0 / 3}, f64), 1e-12, 1e-12));
  EXPECT_EQ(d.sample(5).sizes(), (std::vector<int64_t>{5, 2, 4, 3}));
  EXPECT_EQ(d.log_prob(torch::rand({2, 4, 3}, f64)).sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(d.log_prob_elements(torch::rand({5, 2, 4, 3}, f64)).sizes(), (std::vector<int64_t>{5, 2, 4, 3}));
  test::expect_invalid_argument([&] { WrappedNormalGrid bad(p.log_weights, p.loc, p.log_scale, 0); },
                                {"grid and images must be >= 1"});
  test::expect_invalid_argument([&] { WrappedNormalGrid bad(torch::zeros({8}, f64), p.loc, p.log_scale, 3); },
                                {"expected log_weights [..., G^D] = [..., 27]"});
}

}  // namespace
}  // namespace elbo::dist
