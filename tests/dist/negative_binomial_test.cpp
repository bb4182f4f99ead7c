#include "elbo/dist/negative_binomial.h"
#include "elbo/dist/poisson.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/monte_carlo.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

/// log NB(x; mean mu, concentration r) from its definition as a product of factors.
double reference(double x, double mu, double r) {
  return std::lgamma(x + r) - std::lgamma(r) - std::lgamma(x + 1) + r * std::log(r / (r + mu)) +
         x * std::log(mu / (r + mu));
}

TEST(NegativeBinomial, LogProbMatchesClosedForm) {
  const double mus[] = {0.3, 4.0, 150.0}, rs[] = {0.2, 2.5, 40.0}, xs[] = {0.0, 3.0, 170.0};
  for (double mu : mus)
    for (double r : rs) {
      const NegativeBinomial d(torch::full({3}, std::log(mu), f64), torch::full({3}, std::log(r), f64));
      const torch::Tensor got = d.log_prob_elements(torch::tensor({xs[0], xs[1], xs[2]}, f64));
      for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i].item<double>(), reference(xs[i], mu, r), 1e-10) << mu << " " << r;
    }
}

TEST(NegativeBinomial, SumsToOneAndTendsToPoisson) {
  const torch::Tensor x = torch::arange(0, 4000, f64);
  const NegativeBinomial d(torch::full({1}, std::log(7.0), f64), torch::full({1}, std::log(0.5), f64));
  EXPECT_NEAR(d.log_prob_elements(x).exp().sum().item<double>(), 1.0, 1e-9);
  const NegativeBinomial nearly_poisson(torch::full({1}, std::log(7.0), f64), torch::full({1}, std::log(1e9), f64));
  const Poisson poisson(torch::full({1}, std::log(7.0), f64));
  const torch::Tensor small = torch::arange(0, 30, f64);
  EXPECT_TRUE(torch::allclose(nearly_poisson.log_prob_elements(small), poisson.log_prob_elements(small), 1e-6, 1e-6));
}

TEST(NegativeBinomial, SamplesHaveTheOverdispersedMoments) {
  torch::manual_seed(4);
  const double mu = 5.0, r = 1.5;
  const NegativeBinomial d(torch::full({1}, std::log(mu), f64), torch::full({1}, std::log(r), f64));
  const torch::Tensor draws = d.sample(200000).view(-1);
  EXPECT_TRUE(torch::all(draws >= 0).item<bool>());
  EXPECT_TRUE(torch::equal(draws, draws.round()));
  test::expect_within_standard_errors(draws.mean(0, true), torch::full({1}, mu, f64), test::standard_error(draws.view({-1, 1})),
                                      5.0);
  // Var = mu + mu^2 / r = 21.67; the sample variance's standard error from the fourth moment.
  const torch::Tensor centered = draws - draws.mean();
  const double var = centered.square().mean().item<double>();
  const double se = std::sqrt((centered.pow(4).mean().item<double>() - var * var) / draws.numel());
  EXPECT_NEAR(var, mu + mu * mu / r, 5 * se);
}

}  // namespace
}  // namespace elbo::dist
