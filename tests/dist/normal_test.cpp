#include "elbo/dist/normal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/finite_difference.h"
#include "support/monte_carlo.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

using torch::kDouble;
const auto f64 = torch::TensorOptions().dtype(kDouble);

TEST(Normal, LogProbMatchesClosedForm) {
  const Normal d(torch::tensor({0.5, -1.0}, f64), torch::tensor({0.2, -0.3}, f64));
  const auto x = torch::tensor({1.7, -1.1}, f64);
  const auto got = d.log_prob_elements(x);
  const double locs[] = {0.5, -1.0}, log_scales[] = {0.2, -0.3}, xs[] = {1.7, -1.1};
  double total = 0;
  for (int i = 0; i < 2; ++i) {
    const double s = std::exp(log_scales[i]);
    const double expected =
        -std::log(s * std::sqrt(2 * M_PI)) - (xs[i] - locs[i]) * (xs[i] - locs[i]) / (2 * s * s);
    EXPECT_NEAR(got[i].item<double>(), expected, 1e-14);
    total += expected;
  }
  EXPECT_NEAR(d.log_prob(x).item<double>(), total, 1e-14);
}

TEST(Normal, EntropyMatchesClosedForm) {
  const Normal d(torch::zeros({3}, f64), torch::tensor({0.0, 1.0, -2.0}, f64));
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    const double s = std::exp(std::vector<double>{0.0, 1.0, -2.0}[i]);
    const double expected = 0.5 * std::log(2 * M_PI * M_E * s * s);
    EXPECT_NEAR(d.entropy_elements()[i].item<double>(), expected, 1e-14);
    total += expected;
  }
  EXPECT_NEAR(d.entropy().item<double>(), total, 1e-13);
}

TEST(Normal, MatchesTorchDistributionsReference) {
  const auto rows = test::reference_rows("Normal");
  ASSERT_GT(rows.size(), 20u);
  for (const auto& r : rows) {
    const Normal q(torch::tensor({r.q[0]}, f64), torch::tensor({r.q[1]}, f64));
    double got;
    if (r.quantity == "log_prob") {
      got = q.log_prob(torch::tensor({r.x}, f64)).item<double>();
    } else if (r.quantity == "entropy") {
      got = q.entropy().item<double>();
    } else {
      continue;  // kl rows: kl_test.cpp
    }
    EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << r.quantity << " x=" << r.x;
  }
}

TEST(Normal, FloatMatchesDouble) {
  const auto loc = torch::tensor({0.3, -2.0, 5.0}, f64), ls = torch::tensor({-1.0, 0.5, 2.0}, f64);
  const auto x = torch::tensor({0.1, 3.0, -4.0}, f64);
  const auto d64 = Normal(loc, ls).log_prob_elements(x);
  const auto d32 = Normal(loc.to(torch::kFloat), ls.to(torch::kFloat)).log_prob_elements(x.to(torch::kFloat));
  EXPECT_EQ(d32.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(d32.to(kDouble), d64, 1e-6, 1e-6));
}

TEST(Normal, ParametersBroadcastAndParticlesPrependAnAxis) {
  const Normal d(torch::zeros({4, 3}), torch::zeros({3}));
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(d.rsample().sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_EQ(d.rsample(5).sizes(), torch::IntArrayRef({5, 4, 3}));
  // A likelihood with parameters [K, B, D] scores data [B, D].
  const Normal lik(torch::zeros({2, 4, 3}), torch::zeros({2, 4, 3}));
  EXPECT_EQ(lik.log_prob(torch::ones({4, 3})).sizes(), torch::IntArrayRef({2, 4}));
}

TEST(Normal, RsampleIsReproducibleUnderManualSeed) {
  const Normal d(torch::zeros({5}), torch::zeros({5}));
  torch::manual_seed(7);
  const auto a = d.rsample(3);
  torch::manual_seed(7);
  const auto b = d.rsample(3);
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(Normal, RsampleGradientMatchesFiniteDifferences) {
  const auto loc0 = torch::tensor({0.3, -1.2, 2.0}, f64);
  const auto ls0 = torch::tensor({-0.5, 0.1, 0.7}, f64);
  // g(z) = sum sin(z) + z^2 / 3 over 4 particles, noise fixed by reseeding.
  auto objective = [](const torch::Tensor& loc, const torch::Tensor& ls) {
    torch::manual_seed(11);
    const auto z = Normal(loc, ls).rsample(4);
    return (z.sin() + z.square() / 3).sum();
  };
  const auto g_loc = test::autograd_gradient([&](const torch::Tensor& l) { return objective(l, ls0); }, loc0);
  const auto fd_loc = test::finite_difference_gradient(
      [&](const torch::Tensor& l) { return objective(l, ls0).item<double>(); }, loc0);
  EXPECT_TRUE(torch::allclose(g_loc, fd_loc, 1e-6, 1e-7)) << g_loc << fd_loc;
  const auto g_ls = test::autograd_gradient([&](const torch::Tensor& s) { return objective(loc0, s); }, ls0);
  const auto fd_ls = test::finite_difference_gradient(
      [&](const torch::Tensor& s) { return objective(loc0, s).item<double>(); }, ls0);
  EXPECT_TRUE(torch::allclose(g_ls, fd_ls, 1e-6, 1e-7)) << g_ls << fd_ls;
}

TEST(Normal, SampleMomentsMatchWithinStandardErrors) {
  torch::manual_seed(3);
  const auto loc = torch::tensor({1.0, -2.0}, f64), ls = torch::tensor({0.0, -1.5}, f64);
  const Normal d(loc, ls);
  const int64_t n = 20000;
  const auto z = d.sample(n);
  EXPECT_FALSE(z.requires_grad());
  test::expect_within_standard_errors(z.mean(0), loc, test::standard_error(z));
  const auto var = (2 * ls).exp();
  test::expect_within_standard_errors(test::sample_variance(z), var, test::standard_error((z - loc).square()));
}

TEST(Normal, MaskDropsExactlyTheMaskedTerms) {
  const auto loc = torch::tensor({{0.0, 1.0, 2.0}}, f64).requires_grad_(true);
  const Normal d(loc, torch::zeros({1, 3}, f64));
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const auto x = torch::tensor({{0.5, inf, nan}}, f64);
  const auto mask = torch::tensor({{1.0, 0.0, 0.0}}, f64);
  const auto lp = d.log_prob(x, mask);
  EXPECT_DOUBLE_EQ(lp.item<double>(), -0.125 - 0.5 * std::log(2 * M_PI));
  lp.backward();
  EXPECT_TRUE(torch::equal(loc.grad(), torch::tensor({{0.5, 0.0, 0.0}}, f64))) << loc.grad();
  // Unmasked, the same values give -inf and NaN.
  EXPECT_TRUE(std::isnan(d.log_prob(x).item<double>()));
  // An all-zero mask gives exactly 0; a broadcast mask [D] works on [B, D].
  EXPECT_EQ(d.log_prob(x, torch::zeros({3}, f64)).item<double>(), 0.0);
}

TEST(Normal, WithScaleBroadcastsAndChecksTheScale) {
  const auto d = Normal::with_scale(torch::ones({2, 3}), 0.01);
  EXPECT_EQ(d.log_scale().sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_NEAR(d.scale()[1][2].item<float>(), 0.01f, 1e-8);
  test::expect_invalid_argument([] { Normal::with_scale(torch::zeros({2}), -1); },
                                {"elbo::dist::Normal::with_scale", "scale must be positive", "-1"});
  test::expect_invalid_argument([] { Normal::with_scale(torch::zeros({2}), std::nan("")); },
                                {"scale must be positive"});
}

TEST(Normal, PosteriorFromRawFloorsTheScaleSmoothly) {
  // sigma = sigma_min + e^r exactly, for r from far below the floor (float64: no underflow to 0)
  // to far above it, and d log sigma / dr = e^r / sigma.
  const Tensor r = torch::tensor({-800.0, -30.0, -9.2, -2.0, 0.0, 3.0, 40.0}, f64).requires_grad_();
  const Tensor raw = torch::cat({torch::zeros({7}, f64), r}).view({1, 14});
  const Normal q = posterior_from_raw(raw);
  const Tensor expected = kMinPosteriorScale + r.detach().exp();
  for (int64_t i = 0; i < 7; ++i) {
    EXPECT_NEAR(q.scale()[0][i].item<double>(), expected[i].item<double>(), 1e-12 * expected[i].item<double>()) << i;
    EXPECT_EQ(q.loc()[0][i].item<double>(), 0.0);
  }
  q.log_scale().sum().backward();
  const Tensor grad = r.grad();
  EXPECT_TRUE(torch::allclose(grad, r.detach().exp() / expected, 1e-10, 0));
  test::expect_invalid_argument([] { posterior_from_raw(torch::zeros({2, 3})); },
                                {"elbo::dist::posterior_from_raw", "[..., 2D]", "[2, 3]"});
}

TEST(Normal, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { Normal(torch::zeros({3}), torch::zeros({4})); },
                                {"elbo::dist::Normal: loc and log_scale shapes do not broadcast ([3] vs [4])"});
  test::expect_invalid_argument([] { Normal(torch::zeros({3}, torch::kLong), torch::zeros({3})); },
                                {"elbo::dist::Normal", "loc must be a floating-point tensor"});
  test::expect_invalid_argument([] { Normal(torch::Tensor(), torch::zeros({3})); }, {"loc is undefined"});
  const Normal d(torch::zeros({2, 3}), torch::zeros({2, 3}));
  test::expect_invalid_argument([&] { d.log_prob(torch::zeros({2, 4})); },
                                {"elbo::dist::Normal::log_prob", "[2, 4] vs [2, 3]"});
  test::expect_invalid_argument([&] { d.log_prob(torch::zeros({2, 3}), torch::ones({5})); },
                                {"x and mask shapes do not broadcast"});
  test::expect_invalid_argument([&] { d.rsample(-1); }, {"number of samples must be >= 0"});
}

}  // namespace
}  // namespace elbo::dist
