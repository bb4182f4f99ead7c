#include "elbo/objective/elbo.h"
#include "elbo/objective/iwae.h"
#include "elbo/objective/schedules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace elbo {
namespace {

/// A hand-made trace: K = 3 particles, B = 2 examples, D = 2 latent dims; a latent site "z"
/// and an observed site "x" whose log_p is log p(x | z).
model::Trace toy_trace() {
  model::Site z;
  z.name = "z";
  z.kind = model::SiteKind::latent;
  z.value = torch::zeros({3, 2, 2}, torch::kDouble);  // [K, B, D] (not read by the objectives)
  z.log_q = torch::tensor({{-1.0, -2.0}, {-1.5, -2.5}, {-0.5, -1.0}}, torch::kDouble);
  z.log_p = torch::tensor({{-3.0, -2.0}, {-2.0, -4.0}, {-1.0, -1.5}}, torch::kDouble);
  z.kl = torch::tensor({{{0.5, 1.5}, {0.05, 0.1}}}, torch::kDouble);  // [1, B, D]
  z.q_mean = torch::zeros({2, 2}, torch::kDouble);
  model::Site x;
  x.name = "x";
  x.kind = model::SiteKind::observed;
  x.log_p = torch::tensor({{-10.0, -20.0}, {-12.0, -18.0}, {-11.0, -25.0}}, torch::kDouble);
  model::Trace t;
  t.sites = {z, x};
  return t;
}

TEST(Elbo, AnalyticKlAveragesParticles) {
  model::Trace t = toy_trace();
  objective::Value v = objective::Elbo()(t, 0);
  // reconstruction per example: mean over K; KL per example: sum over D.
  EXPECT_NEAR(v.reconstruction[0].item<double>(), -11.0, 1e-12);
  EXPECT_NEAR(v.reconstruction[1].item<double>(), -21.0, 1e-12);
  EXPECT_NEAR(v.kl[0].item<double>(), 2.0, 1e-12);
  EXPECT_NEAR(v.kl[1].item<double>(), 0.15, 1e-12);
  EXPECT_NEAR(v.loss.item<double>(), ((11.0 + 2.0) + (21.0 + 0.15)) / 2, 1e-12);
  EXPECT_NEAR(v.bound[0].item<double>(), -13.0, 1e-12);
}

TEST(Elbo, MonteCarloKlIsLogQMinusLogP) {
  objective::Value v = objective::Elbo(objective::ElboOptions().analytic_kl(false))(toy_trace(), 0);
  EXPECT_NEAR(v.kl[0].item<double>(), (2.0 + 0.5 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(v.kl[1].item<double>(), (0.0 + 1.5 + 0.5) / 3, 1e-12);
}

TEST(Elbo, AnalyticKlWhereAGroupHasItMonteCarloElsewhere) {
  model::Trace t = toy_trace();
  model::Site upper = *t.find("z");
  upper.name = "z2";
  upper.kl = torch::Tensor();  // e.g. a structured layer whose q reads the particle below
  t.sites.insert(t.sites.begin() + 1, upper);  // after "z", before the observed "x"
  ASSERT_EQ(t.latents().size(), 2u);
  objective::Value v = objective::Elbo()(t, 0);
  // group 1 analytic (2.0, 0.15) + group 2 Monte Carlo mean_k(log q - log p) = (1.0, 0.6667)
  EXPECT_NEAR(v.kl[0].item<double>(), 2.0 + 1.0, 1e-12);
  EXPECT_NEAR(v.kl[1].item<double>(), 0.15 + 2.0 / 3, 1e-12);
  EXPECT_THROW(objective::Elbo(objective::ElboOptions().free_bits(0.1))(t, 0), std::invalid_argument);
}

TEST(Elbo, BetaWarmupAndFreeBits) {
  EXPECT_DOUBLE_EQ(objective::kl_weight(4.0, 0, 0), 4.0);
  EXPECT_DOUBLE_EQ(objective::kl_weight(4.0, 100, 25), 1.0);
  EXPECT_DOUBLE_EQ(objective::kl_weight(4.0, 100, 1000), 4.0);
  objective::Value v = objective::Elbo(objective::ElboOptions().beta(2.0).warmup_steps(10))(toy_trace(), 5);
  EXPECT_DOUBLE_EQ(v.beta, 1.0);
  EXPECT_NEAR(v.loss.item<double>(), 16.0 + 1.0 * 1.075, 1e-12);
  // Free bits 0.5: the per-dimension batch means 0.275 and 0.8 become 0.5 and 0.8.
  objective::Value fb = objective::Elbo(objective::ElboOptions().free_bits(0.5))(toy_trace(), 0);
  EXPECT_NEAR(fb.loss.item<double>(), 16.0 + 0.5 + 0.8, 1e-12);
  EXPECT_NEAR(fb.bound[0].item<double>(), -13.0, 1e-12) << "the reported bound is the true ELBO";
}

TEST(Elbo, FreeBitsPassNoGradientBelowTheFloor) {
  torch::Tensor kl = torch::tensor({{0.1, 2.0}, {0.2, 3.0}}, torch::requires_grad());
  objective::free_bits_kl(kl, 1.0).backward();
  EXPECT_TRUE(torch::equal(kl.grad(), torch::tensor({{0.0f, 0.5f}, {0.0f, 0.5f}})));
}

TEST(Iwae, IsLogMeanExpOfTheWeights) {
  model::Trace t = toy_trace();
  objective::Value v = objective::Iwae(3)(t, 0);
  const model::Site& x = *t.find("x");
  const model::Site& z = *t.find("z");
  for (int b = 0; b < 2; ++b) {
    double sum = 0;
    for (int k = 0; k < 3; ++k)
      sum += std::exp(x.log_p[k][b].item<double>() + z.log_p[k][b].item<double>() - z.log_q[k][b].item<double>());
    EXPECT_NEAR(v.bound[b].item<double>(), std::log(sum / 3), 1e-12);
  }
  EXPECT_NEAR(objective::log_mean_exp(torch::tensor({{-1000.0}, {-1000.0}}, torch::kDouble)).item<double>(), -1000.0,
              1e-12) << "stable far below exp's range";
}

TEST(Objective, BadOptionsAreRefused) {
  EXPECT_THROW(objective::Elbo(objective::ElboOptions().particles(0)), std::invalid_argument);
  EXPECT_THROW(objective::Elbo(objective::ElboOptions().beta(-1)), std::invalid_argument);
  EXPECT_THROW(objective::Elbo(objective::ElboOptions().free_bits(0.5).analytic_kl(false)), std::invalid_argument);
  EXPECT_THROW(objective::Iwae(0), std::invalid_argument);
}

}  // namespace
}  // namespace elbo
