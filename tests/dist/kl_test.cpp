#include "elbo/dist/kl.h"

#include <gtest/gtest.h>

#include <cmath>

#include "elbo/dist/bernoulli.h"
#include "elbo/dist/categorical.h"
#include "elbo/dist/continuous_bernoulli.h"
#include "elbo/dist/dirac.h"
#include "elbo/dist/laplace.h"
#include "elbo/dist/normal.h"
#include "elbo/dist/poisson.h"
#include "support/monte_carlo.h"
#include "support/quadrature.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
torch::Tensor t1(double v) { return torch::tensor({v}, f64); }

TEST(Kl, NormalMatchesClosedFormByHand) {
  // KL(N(1, 0.5^2) || N(-0.5, 2^2)) = log(2/0.5) + (0.25 + 2.25) / 8 - 1/2.
  const Normal q(t1(1.0), t1(std::log(0.5))), p(t1(-0.5), t1(std::log(2.0)));
  const double expected = std::log(4.0) + 2.5 / 8 - 0.5;
  EXPECT_NEAR(kl_elements(q, p).item<double>(), expected, 1e-15);
  EXPECT_NEAR(kl(q, p).item<double>(), expected, 1e-15);
  EXPECT_NEAR(kl_elements(q, q).item<double>(), 0.0, 1e-15);
}

TEST(Kl, BernoulliAndCategoricalMatchClosedFormByHand) {
  const double a = 0.3, b = 0.8;  // probabilities
  const Bernoulli q(t1(std::log(a / (1 - a)))), p(t1(std::log(b / (1 - b))));
  EXPECT_NEAR(kl_elements(q, p).item<double>(), a * std::log(a / b) + (1 - a) * std::log((1 - a) / (1 - b)),
              1e-14);
  // Two positions of a 3-class categorical; kl() sums the positions.
  const std::vector<double> pq = {0.2, 0.5, 0.3}, pp = {0.6, 0.1, 0.3};
  const auto lq = torch::tensor(pq, f64).log(), lp = torch::tensor(pp, f64).log();
  const Categorical cq(torch::stack({lq, lq})), cp(torch::stack({lp, lq}));
  double expected = 0;
  for (int c = 0; c < 3; ++c) expected += pq[c] * std::log(pq[c] / pp[c]);
  const auto el = kl_elements(cq, cp);
  EXPECT_EQ(el.sizes(), torch::IntArrayRef({2}));
  EXPECT_NEAR(el[0].item<double>(), expected, 1e-14);
  EXPECT_NEAR(el[1].item<double>(), 0.0, 1e-15);
  EXPECT_NEAR(kl(cq, cp).item<double>(), expected, 1e-14);
}

TEST(Kl, LaplaceMatchesNumericalIntegration) {
  const double m1 = 0.4, b1 = 0.7, m2 = -1.0, b2 = 1.6;
  auto log_q = [&](double x) { return -std::abs(x - m1) / b1 - std::log(2 * b1); };
  auto log_p = [&](double x) { return -std::abs(x - m2) / b2 - std::log(2 * b2); };
  auto integrand = [&](double x) { return std::exp(log_q(x)) * (log_q(x) - log_p(x)); };
  // Split at the kinks so the trapezoid rule keeps its h^2 accuracy.
  const double expected = test::trapezoid(integrand, -40, m2) + test::trapezoid(integrand, m2, m1) +
                          test::trapezoid(integrand, m1, 40);
  const Laplace q(t1(m1), t1(std::log(b1))), p(t1(m2), t1(std::log(b2)));
  EXPECT_NEAR(kl_elements(q, p).item<double>(), expected, 1e-9);
}

TEST(Kl, MatchesTorchDistributionsReference) {
  int checked = 0;
  for (const std::string name : {"Normal", "Laplace", "Bernoulli", "Categorical"}) {
    for (const auto& r : test::reference_rows(name, "kl")) {
      double got;
      if (name == "Normal") {
        got = kl(Normal(t1(r.q[0]), t1(r.q[1])), Normal(t1(r.p[0]), t1(r.p[1]))).item<double>();
      } else if (name == "Laplace") {
        got = kl(Laplace(t1(r.q[0]), t1(r.q[1])), Laplace(t1(r.p[0]), t1(r.p[1]))).item<double>();
      } else if (name == "Bernoulli") {
        got = kl(Bernoulli(t1(r.q[0])), Bernoulli(t1(r.p[0]))).item<double>();
      } else {
        got = kl(Categorical(torch::tensor(r.q, f64).unsqueeze(0)),
                 Categorical(torch::tensor(r.p, f64).unsqueeze(0)))
                  .item<double>();
      }
      EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 80);
}

// Per-element MC draws of log q - log p with the same seed kl_monte_carlo_elements uses.
torch::Tensor log_ratio_draws(const Distribution& q, const Distribution& p, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const auto z = q.has_rsample() ? q.rsample(n) : q.sample(n);
  return (q.log_prob_elements(z) - p.log_prob_elements(z)).detach();
}

void expect_mc_converges(const Distribution& q, const Distribution& p) {
  const int64_t n = 20000;
  const auto draws = log_ratio_draws(q, p, n, 17);
  torch::manual_seed(17);
  const auto mc = kl_monte_carlo_elements(q, p, n);
  EXPECT_TRUE(torch::allclose(mc, draws.mean(0), 1e-12, 1e-12));
  test::expect_within_standard_errors(mc, kl_elements(q, p), test::standard_error(draws));
}

TEST(Kl, MonteCarloConvergesToAnalyticWithinStandardErrors) {
  expect_mc_converges(Normal(torch::tensor({0.0, 1.0, -2.0}, f64), torch::tensor({0.0, -0.5, 0.3}, f64)),
                      Normal(torch::tensor({0.5, 0.0, 0.0}, f64), torch::tensor({0.2, 0.0, -0.1}, f64)));
  expect_mc_converges(Laplace(torch::tensor({0.0, 1.0}, f64), torch::tensor({0.0, -0.5}, f64)),
                      Laplace(torch::tensor({0.5, -1.0}, f64), torch::tensor({0.4, 0.3}, f64)));
  expect_mc_converges(Bernoulli(torch::tensor({-1.0, 0.5, 2.0}, f64)),
                      Bernoulli(torch::tensor({0.3, -0.5, 0.0}, f64)));
  expect_mc_converges(Categorical(torch::tensor({{0.0, 1.0, -1.0}, {2.0, 0.0, 0.0}}, f64)),
                      Categorical(torch::tensor({{0.5, 0.0, 0.0}, {0.0, 0.0, 1.0}}, f64)));
}

TEST(Kl, MonteCarloIsDifferentiableAndBroadcastsAgainstABatchedPrior) {
  const auto loc = torch::tensor({0.3, -0.2}, f64).requires_grad_(true);
  const Normal q(loc, torch::zeros({2}, f64));
  const Normal p(torch::zeros({4, 2}, f64), torch::zeros({4, 2}, f64));
  const auto mc = kl_monte_carlo_elements(q, p, 8);
  EXPECT_EQ(mc.sizes(), torch::IntArrayRef({4, 2}));
  mc.sum().backward();
  ASSERT_TRUE(loc.grad().defined());
  EXPECT_TRUE(torch::isfinite(loc.grad()).all().item<bool>());
}

TEST(Kl, PairsWithoutClosedFormFallBackToMonteCarlo) {
  const Normal q(torch::zeros({3}, f64), torch::zeros({3}, f64));
  const Laplace p(torch::zeros({3}, f64), torch::zeros({3}, f64));
  EXPECT_FALSE(has_analytic_kl(q, p));
  EXPECT_TRUE(has_analytic_kl(q, q));
  test::expect_invalid_argument([&] { kl_elements(q, p); },
                                {"elbo::dist::kl_elements", "no closed-form KL(Normal || Laplace)"});
  torch::manual_seed(1);
  const auto expected = kl_monte_carlo_elements(q, p, 32).sum(-1);
  torch::manual_seed(1);
  EXPECT_TRUE(torch::allclose(kl(q, p, 32), expected, 1e-14, 1e-14));
  // Continuous Bernoulli has no analytic pair here either.
  const ContinuousBernoulli cb(torch::tensor({0.5, -1.0}, f64));
  EXPECT_TRUE(torch::isfinite(kl(cb, ContinuousBernoulli(torch::zeros({2}, f64)), 64)).all().item<bool>());
}

TEST(Kl, ContinuousQAgainstDiracExplainsTheSupportMismatch) {
  const Dirac prior(torch::zeros({3}));
  const Normal normal(torch::zeros({3}), torch::zeros({3}));
  const Laplace laplace(torch::zeros({3}), torch::zeros({3}));
  const ContinuousBernoulli cb(torch::zeros({3}));
  for (const Distribution* q : std::vector<const Distribution*>{&normal, &laplace, &cb}) {
    const std::string pair = "KL(" + q->name() + " || Dirac) is infinite";
    for (auto call : {+[](const Distribution& a, const Distribution& b) { kl(a, b); },
                      +[](const Distribution& a, const Distribution& b) { kl_elements(a, b); },
                      +[](const Distribution& a, const Distribution& b) { kl_monte_carlo_elements(a, b, 4); }}) {
      test::expect_invalid_argument([&] { call(*q, prior); },
                                    {pair, "support mismatch", "prior_scale", "Normal::with_scale"});
    }
  }
}

TEST(Kl, BadInputsThrowWithMessages) {
  const Normal q(torch::zeros({3}), torch::zeros({3})), p(torch::zeros({4}), torch::zeros({4}));
  test::expect_invalid_argument([&] { kl_elements(q, p); }, {"q and p shapes do not broadcast ([3] vs [4])"});
  test::expect_invalid_argument([&] { kl_monte_carlo_elements(q, q, 0); }, {"samples must be positive"});
  test::expect_invalid_argument([] { kl_elements(Categorical(torch::zeros({2, 3})), Categorical(torch::zeros({2, 4}))); },
                                {"different class counts (3 vs 4)"});
}

}  // namespace
}  // namespace elbo::dist
