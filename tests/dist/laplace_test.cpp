#include "elbo/dist/laplace.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/finite_difference.h"
#include "support/monte_carlo.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

TEST(Laplace, LogProbAndEntropyMatchClosedForm) {
  const Laplace d(torch::tensor({0.5, -1.0}, f64), torch::tensor({0.2, -0.3}, f64));
  const double locs[] = {0.5, -1.0}, log_scales[] = {0.2, -0.3}, xs[] = {1.7, -1.1};
  const auto got = d.log_prob_elements(torch::tensor({1.7, -1.1}, f64));
  for (int i = 0; i < 2; ++i) {
    const double b = std::exp(log_scales[i]);
    EXPECT_NEAR(got[i].item<double>(), -std::log(2 * b) - std::abs(xs[i] - locs[i]) / b, 1e-14);
    EXPECT_NEAR(d.entropy_elements()[i].item<double>(), 1 + std::log(2 * b), 1e-14);
  }
}

TEST(Laplace, MatchesTorchDistributionsReference) {
  const auto rows = test::reference_rows("Laplace");
  ASSERT_GT(rows.size(), 20u);
  for (const auto& r : rows) {
    const Laplace q(torch::tensor({r.q[0]}, f64), torch::tensor({r.q[1]}, f64));
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

TEST(Laplace, RsampleGradientMatchesFiniteDifferences) {
  const auto loc0 = torch::tensor({0.3, -1.2, 2.0}, f64);
  const auto ls0 = torch::tensor({-0.5, 0.1, 0.7}, f64);
  auto objective = [](const torch::Tensor& loc, const torch::Tensor& ls) {
    torch::manual_seed(5);
    const auto z = Laplace(loc, ls).rsample(4);
    return (z.cos() + z.pow(3) / 10).sum();
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

TEST(Laplace, SampleMomentsMatchWithinStandardErrors) {
  torch::manual_seed(4);
  const auto loc = torch::tensor({1.0, -2.0}, f64), ls = torch::tensor({0.0, -1.5}, f64);
  const Laplace d(loc, ls);
  const auto z = d.sample(40000);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({40000, 2}));
  test::expect_within_standard_errors(z.mean(0), loc, test::standard_error(z));
  const auto var = 2 * (2 * ls).exp();  // Var = 2 b^2
  test::expect_within_standard_errors(test::sample_variance(z), var, test::standard_error((z - loc).square()));
  // Median = loc: the fraction below loc is 1/2 within 5 binomial standard errors.
  const auto below = (z < loc).to(torch::kDouble).mean(0);
  test::expect_within_standard_errors(below, torch::full({2}, 0.5, f64),
                                      torch::full({2}, 0.5 / std::sqrt(40000.0), f64));
}

TEST(Laplace, RsampleStaysFiniteInFloat) {
  torch::manual_seed(1);
  const auto z = Laplace(torch::zeros({1000}), torch::zeros({1000})).rsample(50);
  EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
}

TEST(Laplace, MaskDropsExactlyTheMaskedTerms) {
  const Laplace d(torch::zeros({3}, f64), torch::zeros({3}, f64));
  const double inf = std::numeric_limits<double>::infinity();
  const auto x = torch::tensor({{1.0, -inf, 2.0}, {0.0, 0.0, inf}}, f64);
  const auto mask = torch::tensor({{1.0, 0.0, 1.0}, {1.0, 1.0, 0.0}}, f64);
  const auto lp = d.log_prob(x, mask);
  EXPECT_DOUBLE_EQ(lp[0].item<double>(), -2 * std::log(2.0) - 3.0);
  EXPECT_DOUBLE_EQ(lp[1].item<double>(), -2 * std::log(2.0));
}

TEST(Laplace, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { Laplace(torch::zeros({3}), torch::zeros({2, 4})); },
                                {"elbo::dist::Laplace: loc and log_scale shapes do not broadcast ([3] vs [2, 4])"});
  const Laplace d(torch::zeros({3}), torch::zeros({3}));
  test::expect_invalid_argument([&] { d.log_prob_elements(torch::zeros({4})); },
                                {"elbo::dist::Laplace::log_prob", "[4] vs [3]"});
}

}  // namespace
}  // namespace elbo::dist
