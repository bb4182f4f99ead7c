// Inference gaps (Cremer et al. 2018) on probabilistic PCA: every gap has a closed form.
#include "elbo/core/json.h"
#include "elbo/diag/gaps.h"
#include "support/linear_gaussian.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo {
namespace {

diag::GapOptions options() {
  diag::GapOptions o;
  o.evidence.k = 5000;
  o.evidence.max_rows = 200000;
  o.refine.max_steps = 5000;  // a precise q* (see refine_test.cpp): K = 32, tol 1e-4, window 100
  o.refine.particles = 32;
  o.refine.tol = 1e-4;
  o.refine.window = 100;
  o.elbo_particles = 2000;
  return o;
}

/// Total variation 0.5 ∫ |q(z) - p(z)| dz between a diagonal Gaussian q (loc, scale [L])
/// and a full Gaussian p = N(mean [L], cov [L, L]) by a midpoint rule on a grid of
/// ±8 posterior standard deviations (L = 1: 20001 points; L = 2: 801 x 801).
double grid_total_variation(const torch::Tensor& loc, const torch::Tensor& scale, const torch::Tensor& mean,
                            const torch::Tensor& cov) {
  const int64_t L = loc.numel();
  const int64_t points = L == 1 ? 20001 : 801;
  std::vector<torch::Tensor> axes;
  double cell = 1;
  for (int64_t i = 0; i < L; ++i) {
    const double lo = std::min(loc[i].item<double>() - 8 * scale[i].item<double>(),
                               mean[i].item<double>() - 8 * std::sqrt(cov[i][i].item<double>()));
    const double hi = std::max(loc[i].item<double>() + 8 * scale[i].item<double>(),
                               mean[i].item<double>() + 8 * std::sqrt(cov[i][i].item<double>()));
    axes.push_back(torch::linspace(lo, hi, points, torch::kDouble));
    cell *= (hi - lo) / (points - 1);
  }
  torch::Tensor z = L == 1 ? axes[0].unsqueeze(1) : torch::stack(torch::meshgrid({axes[0], axes[1]}, "ij"), -1).reshape({-1, 2});
  const double log2pi = std::log(2 * M_PI);
  torch::Tensor log_q = (-0.5 * ((z - loc) / scale).pow(2) - torch::log(scale) - 0.5 * log2pi).sum(1);
  torch::Tensor r = z - mean;
  torch::Tensor log_p = -0.5 * ((r.mm(torch::inverse(cov)) * r).sum(1) + torch::logdet(cov) + L * log2pi);
  const double mass_q = (log_q.exp().sum() * cell).item<double>(), mass_p = (log_p.exp().sum() * cell).item<double>();
  EXPECT_NEAR(mass_q, 1.0, 1e-3);
  EXPECT_NEAR(mass_p, 1.0, 1e-3);
  return 0.5 * ((log_q.exp() - log_p.exp()).abs().sum() * cell).item<double>();
}

TEST(Gaps, DiagonalPosteriorHasNoApproximationGapAndTheAmortizationGapIsTheKl) {
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::tensor({0.1, -0.2, 0.3}, torch::kDouble), 0.7,
                                /*mean_shift=*/0.4, /*log_scale_shift=*/0.3);
  data::Dataset data = testing::ppca_data(model, 30, 21);
  diag::Gaps g = diag::estimate_gaps(model, data, options());
  const torch::Tensor exact = model.log_evidence(data.x);
  const double kl_amortized = model.kl_to_posterior(data.x).mean().item<double>();
  const double kl_refined = model.kl_to_posterior(data.x, g.refined.q()).mean().item<double>();
  // The decomposition is exact arithmetic on the same estimates.
  EXPECT_NEAR(g.total.mean, g.approximation.mean + g.amortization.mean, 1e-9);
  // IWAE-5000 within its Monte Carlo error of the exact evidence.
  EXPECT_NEAR(g.log_px_mean, exact.mean().item<double>(), 5 * g.approximation.mc_se + 1e-3);
  // Approximation gap = KL(q* || p(z|x)) ~ 0 (diagonal family contains the posterior).
  EXPECT_NEAR(g.approximation.mean, kl_refined, 5 * g.approximation.mc_se + 1e-3);
  EXPECT_LT(std::abs(g.approximation.mean), 5e-3);
  // Total and amortization gaps = KL(q || p(z|x)) of the off encoder.
  EXPECT_NEAR(g.total.mean, kl_amortized, 5 * g.total.mc_se + 1e-3);
  EXPECT_NEAR(g.amortization.mean, kl_amortized - kl_refined, 5 * g.amortization.mc_se + 1e-3);
  EXPECT_GT(g.amortization.mean, 10 * g.amortization.se);
  EXPECT_GT(g.pinsker_amortized, g.pinsker_refined);
  EXPECT_TRUE(g.refined.converged);
  const Json json = diag::to_json(g);
  EXPECT_EQ(json["amortization_gap"]["mean"], g.amortization.mean) << json.dump();
  EXPECT_EQ(json["refine_converged"], true) << json.dump();
}

TEST(Gaps, MeanFieldOnACorrelatedPosteriorHasTheClosedFormApproximationGap) {
  testing::LinearGaussian model(testing::correlated_loadings(), torch::zeros({3}, torch::kDouble), 0.8);
  data::Dataset data = testing::ppca_data(model, 30, 21);
  diag::Gaps g = diag::estimate_gaps(model, data, options());
  // KL(q* || p) = 0.5 (sum log Λ_ii - log det Λ) for the optimal mean-field q*: ≈ 0.227 here.
  const double closed = model.mean_field_kl();
  ASSERT_GT(closed, 0.1);
  EXPECT_GT(g.approximation.mean - 5 * g.approximation.mc_se, 0.0) << "strictly positive";
  // Monte Carlo error plus the IWAE bias and the optimization error (second order: < 3e-3).
  EXPECT_NEAR(g.approximation.mean, closed, 5 * g.approximation.mc_se + 5e-3);
  // The encoder here has the posterior's marginal variances S_ii: worse than q* (1/Λ_ii).
  const double kl_amortized = model.kl_to_posterior(data.x).mean().item<double>();
  EXPECT_GT(kl_amortized, closed + 0.01);
  EXPECT_NEAR(g.amortization.mean, kl_amortized - closed, 5 * g.amortization.mc_se + 5e-3);
}

TEST(Gaps, PinskerBoundIsNeverBelowTheTotalVariationOnAGrid) {
  // 1-D latent (encoder off in mean and scale) and 2-D latent (correlated posterior, mean-field q).
  std::vector<std::shared_ptr<testing::LinearGaussian>> models;
  models.push_back(std::make_shared<testing::LinearGaussian>(torch::tensor({{1.2}, {0.7}, {-0.4}}, torch::kDouble),
                                                             torch::zeros({3}, torch::kDouble), 0.9, 0.5, 0.4));
  models.push_back(std::make_shared<testing::LinearGaussian>(testing::correlated_loadings(),
                                                             torch::zeros({3}, torch::kDouble), 0.8, 0.3, -0.2));
  for (auto& pointer : models) {
    testing::LinearGaussian& model = *pointer;
    data::Dataset data = testing::ppca_data(model, 6, 5);
    diag::Gaps g = diag::estimate_gaps(model, data, options());
    const torch::Tensor mean = model.posterior_mean(data.x), cov = model.posterior_covariance();
    const auto amortized = std::dynamic_pointer_cast<dist::Normal>(model.posterior(data::Batch{data.x}));
    const auto refined = std::dynamic_pointer_cast<dist::Normal>(g.refined.q());
    ASSERT_TRUE(amortized) << "the encoder's q is a diagonal Normal";
    ASSERT_TRUE(refined) << "q* is in the encoder's (Normal) family";
    const torch::Tensor kl_amortized = model.kl_to_posterior(data.x), kl_refined = model.kl_to_posterior(data.x, *refined);
    const torch::Tensor est_amortized = diag::pinsker_bound(g.total_gaps());
    const torch::Tensor est_refined = diag::pinsker_bound(g.approximation_gaps());
    for (int64_t n = 0; n < data.size(); ++n) {
      const double tv_a = grid_total_variation(amortized->loc()[n], amortized->scale()[n], mean[n], cov);
      const double tv_r = grid_total_variation(refined->loc()[n], refined->scale()[n], mean[n], cov);
      SCOPED_TRACE("latent dim " + std::to_string(model.latent_dim()) + ", example " + std::to_string(n));
      // With the closed-form KL the bound holds exactly (up to the grid's error).
      EXPECT_GE(diag::pinsker_bound(kl_amortized[n]).item<double>(), tv_a - 1e-6);
      EXPECT_GE(diag::pinsker_bound(kl_refined[n]).item<double>(), tv_r - 1e-6);
      // With the estimated gaps (lower estimates of the KL) it still holds here:
      // Pinsker's slack for these Gaussians (>= 15%) exceeds the Monte Carlo error.
      EXPECT_GE(est_amortized[n].item<double>(), tv_a);
      if (kl_refined[n].item<double>() > 0.05) EXPECT_GE(est_refined[n].item<double>(), tv_r);
      EXPECT_GT(tv_a, 0.05) << "the test needs q measurably off";
    }
  }
}

}  // namespace
}  // namespace elbo

namespace elbo {
namespace {

TEST(Gaps, LogEvidenceProposalChoiceRule) {
  // Margin 2 sqrt(0.3^2 + 0.4^2) = 1.0 for every pair below.
  auto t = [](std::vector<double> v) { return torch::tensor(v, torch::kDouble); };
  const auto a = t({-100, -100, -100, -100, -100});
  const auto a_se = t({0.3, 0.3, 0.4, 0.3, 0.4});
  const auto b = t({-98.9, -99.1, -99.5, -100.8, -101.2});
  const auto b_se = t({0.4, 0.4, 0.3, 0.4, 0.3});
  // b larger beyond the margin: b; within the margin: the smaller SE (ties keep a);
  // a larger beyond the margin: a, even where b is more precise.
  const auto chosen = diag::prefer_second_estimate(a, a_se, b, b_se);
  EXPECT_TRUE(torch::equal(chosen, torch::tensor({true, false, true, false, false})));
  EXPECT_TRUE(diag::prefer_second_estimate(a, a_se, t({-99.5, -99.5, -99.5, -100.5, -100.5}), a_se.flip(0)).equal(
      torch::tensor({false, false, false, false, true})));
}

}  // namespace
}  // namespace elbo
