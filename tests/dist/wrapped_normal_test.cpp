// The wrapped normal on the circle: a density (quadrature), the image sum against a brute force over
// many images, periodicity, the branch split, exact circular moments of its samples, gradients.
#include "elbo/dist/wrapped_normal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/finite_difference.h"
#include "support/monte_carlo.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

/// sum_{k = -200..200} N(x + k; loc, s^2), plain double (no series switch, no wrapping of x - loc).
double brute_force_density(double x, double loc, double s) {
  double p = 0;
  for (int k = -200; k <= 200; ++k) {
    const double u = (x + k - loc) / s;
    p += std::exp(-0.5 * u * u) / (s * std::sqrt(2 * M_PI));
  }
  return p;
}

double log_density(double x, double loc, double s, int64_t images = 3) {
  const WrappedNormal d(torch::tensor({loc}, f64), torch::tensor({std::log(s)}, f64), images);
  return d.log_prob_elements(torch::tensor({x}, f64)).item<double>();
}

const std::vector<double> kScales{0.002, 0.02, 0.1, 0.25, 0.2999, 0.3, 0.3001, 0.5, 1.0, 3.0};

TEST(WrappedNormal, IntegratesToOneOnTheCircle) {
  // The periodic trapezoid rule converges exponentially for a smooth periodic integrand: with
  // n = 4096 points the quadrature error is about exp(-2 pi^2 (n sigma)^2), negligible for sigma >= 0.002.
  const int64_t n = 4096;
  const torch::Tensor x = torch::arange(n, f64) / static_cast<double>(n);
  for (double s : kScales)
    for (double loc : {0.37, -2.2, 7.9}) {
      for (int64_t images : {1, 3}) {
        const WrappedNormal d(torch::full({n}, loc, f64), torch::full({n}, std::log(s), f64), images);
        const double integral = d.log_prob_elements(x).exp().mean().item<double>();
        // K = 1 drops images >= 1.5 away: relative error below exp(-2 / (2 sigma^2)) (sigma < 0.3: 1.5e-5).
        const double tolerance = images == 1 ? 2e-5 : 1e-12;
        EXPECT_NEAR(integral, 1.0, tolerance) << "sigma " << s << ", loc " << loc << ", K " << images;
      }
    }
}

TEST(WrappedNormal, MatchesTheImageSumOverManyImages) {
  for (double s : kScales)
    for (double loc : {0.0, 0.37, -2.2})
      for (double x : {0.0, 0.05, 0.5, 0.71, 0.999}) {
        const double expected = brute_force_density(x, loc, s);
        if (expected < 1e-250) continue;  // far in the tail of a sharp density: log underflows in the reference
        EXPECT_NEAR(log_density(x, loc, s), std::log(expected), 1e-10)
            << "x " << x << ", loc " << loc << ", sigma " << s;
      }
}

TEST(WrappedNormal, IsInvariantToIntegerShifts) {
  const torch::Tensor loc = torch::tensor({0.1, -0.4, 3.3, 0.9}, f64);
  const torch::Tensor log_scale = torch::tensor({std::log(0.05), std::log(0.29), std::log(0.31), std::log(2.0)}, f64);
  const WrappedNormal d(loc, log_scale);
  const torch::Tensor x = torch::tensor({0.12, 0.95, 0.3, 0.0}, f64);
  const torch::Tensor base = d.log_prob_elements(x);
  for (double m : {-3.0, -1.0, 1.0, 5.0}) {
    EXPECT_TRUE(torch::allclose(d.log_prob_elements(x + m), base, 1e-12, 1e-12)) << "x + " << m;
    const WrappedNormal shifted(loc + m, log_scale);
    EXPECT_TRUE(torch::allclose(shifted.log_prob_elements(x), base, 1e-12, 1e-12)) << "loc + " << m;
  }
}

TEST(WrappedNormal, IsContinuousAcrossTheSeriesSwitch) {
  const double split = WrappedNormal::kFourierFrom;
  for (double x : {0.0, 0.2, 0.5})
    EXPECT_NEAR(log_density(x, 0.1, split * (1 - 1e-12)), log_density(x, 0.1, split * (1 + 1e-12)), 1e-10) << x;
}

TEST(WrappedNormal, SamplesLieOnTheCircleWithTheExactCircularMoments) {
  // E[cos 2 pi n x] = exp(-2 pi^2 n^2 sigma^2) cos(2 pi n loc), E[sin ...] likewise with sin.
  torch::manual_seed(3);
  const int64_t draws = 200000;
  for (double s : {0.05, 0.2, 0.6}) {
    const double loc = -1.3;
    const WrappedNormal d(torch::tensor({loc}, f64), torch::tensor({std::log(s)}, f64));
    const torch::Tensor x = d.sample(draws).squeeze(-1);
    EXPECT_GE(x.min().item<double>(), 0.0);
    EXPECT_LT(x.max().item<double>(), 1.0);
    for (int n : {1, 2}) {
      const double damp = std::exp(-2 * M_PI * M_PI * n * n * s * s);
      const torch::Tensor c = torch::cos(2 * M_PI * n * x), si = torch::sin(2 * M_PI * n * x);
      test::expect_within_standard_errors(c.mean(), torch::tensor(damp * std::cos(2 * M_PI * n * loc), f64),
                                          test::standard_error(c));
      test::expect_within_standard_errors(si.mean(), torch::tensor(damp * std::sin(2 * M_PI * n * loc), f64),
                                          test::standard_error(si));
    }
  }
}

TEST(WrappedNormal, GradientsMatchFiniteDifferences) {
  // loc and log-scale on both sides of the series switch; x fixed.
  const torch::Tensor x = torch::tensor({0.93, 0.1, 0.5, 0.02}, f64);
  const torch::Tensor params = torch::tensor({0.05, 0.8, -0.3, 0.4, std::log(0.1), std::log(0.2), std::log(0.5),
                                              std::log(1.5)}, f64);
  const auto f = [&](const torch::Tensor& p) {
    const WrappedNormal d(p.narrow(0, 0, 4), p.narrow(0, 4, 4));
    return d.log_prob(x);
  };
  const torch::Tensor fd = test::finite_difference_gradient([&](const torch::Tensor& p) { return f(p).item<double>(); },
                                                            params);
  const torch::Tensor ad = test::autograd_gradient(f, params);
  EXPECT_TRUE(torch::allclose(ad, fd, 1e-6, 1e-7)) << ad << "\n" << fd;
}

TEST(WrappedNormal, ReparameterizedSamplesMoveWithTheLocation) {
  torch::manual_seed(5);
  const torch::Tensor loc = torch::tensor({0.3, 0.97}, f64).requires_grad_(true);
  const WrappedNormal d(loc, torch::full({2}, std::log(0.1), f64));
  d.rsample(50).sum().backward();
  EXPECT_TRUE(torch::allclose(loc.grad(), torch::full({2}, 50.0, f64)));
  EXPECT_EQ(d.mean()[1].item<double>(), 0.97);
  test::expect_invalid_argument([&] { WrappedNormal bad(loc, loc, 0); }, {"images must be >= 1"});
}

}  // namespace
}  // namespace elbo::dist
