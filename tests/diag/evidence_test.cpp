// Evidence estimates on probabilistic PCA, whose log p(x) and posterior are closed forms.
#include "elbo/diag/evidence.h"
#include "elbo/diag/summary.h"
#include "support/linear_gaussian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace elbo {
namespace {

data::Dataset ppca_data(int64_t n) {
  torch::manual_seed(7);
  data::Dataset d;
  d.x = torch::randn({n, 3}, torch::kDouble) * 1.3 + 0.2;
  d.name = "ppca";
  return d;
}

TEST(Evidence, ElboWithTheExactPosteriorEqualsLogEvidence) {
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::tensor({0.1, -0.2, 0.3}, torch::kDouble), 0.7);
  data::Dataset data = ppca_data(20);
  diag::Evidence e = diag::estimate_evidence(model, data, {.k = 64});
  torch::Tensor exact = model.log_evidence(data.x);
  // With q = p(z|x) every importance weight equals p(x): no Monte Carlo error at all.
  EXPECT_TRUE(torch::allclose(e.elbo, exact, 1e-9, 1e-9)) << e.elbo - exact;
  EXPECT_TRUE(torch::allclose(e.log_px, exact, 1e-9, 1e-9));
  EXPECT_LT(e.log_px_mc_se.max().item<double>(), 1e-6);
}

TEST(Evidence, IwaeConvergesToLogEvidenceAsKGrows) {
  // q is off: shifted mean, too wide (bounded weights). The IWAE bound tightens with K.
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::tensor({0.1, -0.2, 0.3}, torch::kDouble), 0.7,
                                /*mean_shift=*/0.4, /*log_scale_shift=*/0.3);
  data::Dataset data = ppca_data(400);
  const double exact = model.log_evidence(data.x).mean().item<double>();
  std::vector<double> gaps, errors;
  for (int64_t k : {1, 4, 16, 5000}) {
    diag::Evidence e = diag::estimate_evidence(model, data, {.k = k, .batch_size = 100, .max_rows = 100000});
    gaps.push_back(exact - e.log_px.mean().item<double>());
    // Delta-method Monte Carlo error of the mean over examples.
    errors.push_back((e.log_px_mc_se.pow(2).sum().sqrt() / data.size()).item<double>());
  }
  for (size_t i = 0; i < gaps.size(); ++i)
    EXPECT_GT(gaps[i], -5 * errors[i] - 1e-9) << "L_K exceeds log p(x) beyond Monte Carlo error, K-index " << i;

  // The bias of L_K falls like 1/K; at K = 1, 4, 16 it dwarfs the noise of the estimate.
  for (size_t i = 0; i + 2 < gaps.size(); ++i)
    EXPECT_GT(gaps[i], gaps[i + 1]) << "the bound must tighten as K grows: K-index " << i << ", gaps "
                                          << gaps[i] << " then " << gaps[i + 1];
  EXPECT_LT(std::abs(gaps.back()), 5 * errors.back() + 1e-3) << "K=5000 within Monte Carlo error of log p(x)";
}

TEST(Evidence, ElboGapIsTheKlToTheTruePosterior) {
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::tensor({0.0, 0.5, -0.5}, torch::kDouble), 0.9,
                                0.3, 0.25);
  data::Dataset data = ppca_data(30);
  diag::Evidence e = diag::estimate_evidence(model, data, {.k = 10000});
  torch::Tensor gap = model.log_evidence(data.x) - e.elbo;     // exact log p(x) minus the K-sample ELBO average
  torch::Tensor kl = model.kl_to_posterior(data.x);            // closed form
  // ELBO = mean over K of log w; its standard error per example is sd(log w)/sqrt(K) < 0.05 here.
  EXPECT_LT((gap - kl).abs().max().item<double>(), 0.05) << gap - kl;
  EXPECT_GT(kl.min().item<double>(), 0.01);
}

TEST(Summary, PinskerBoundAndActiveUnits) {
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::zeros({3}, torch::kDouble), 0.7, 0.3, 0.2);
  data::Dataset data = ppca_data(40);
  diag::Evidence e = diag::estimate_evidence(model, data, {.k = 2000});
  diag::Summary s = diag::summarize(e);
  EXPECT_NEAR(s.gap, model.kl_to_posterior(data.x).mean().item<double>(), 0.05);
  // Jensen: the mean of min(1, sqrt(gap_x / 2)) is at most min(1, sqrt(mean gap_x / 2)).
  const double mean_positive_gap = torch::clamp_min(e.log_px - e.elbo, 0).mean().item<double>();
  EXPECT_GT(s.pinsker_tv, 0.0);
  EXPECT_LE(s.pinsker_tv, std::min(1.0, std::sqrt(mean_positive_gap / 2)) + 1e-12);
  EXPECT_EQ(s.activity.active_units, 2);  // both posterior means vary with x
  EXPECT_EQ(s.activity.kl_per_dim.numel(), 2);
}

TEST(Summary, RefusesNonFiniteBoundsNamingTheFirstExample) {
  diag::Evidence e;
  e.elbo = torch::tensor({-3.0, std::nan(""), -2.5}, torch::kDouble);
  e.log_px = torch::tensor({-2.9, -1.0, -2.4}, torch::kDouble);
  e.log_px_mc_se = e.reconstruction = e.kl = torch::zeros({3}, torch::kDouble);
  e.kl_per_dim = torch::tensor({{0.5, 88.0}, {0.4, 90.0}, {0.6, 1.0}}, torch::kDouble);
  try {
    diag::summarize(e);
    ADD_FAILURE() << "a NaN ELBO was summarized";
  } catch (const std::domain_error& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("1 of 3 examples have a non-finite ELBO or IWAE estimate (the first: example 2"),
              std::string::npos) << what;
    EXPECT_NE(what.find("largest KL of one latent dimension is 90"), std::string::npos) << what;
  }
  e.elbo[1] = -1.5;
  EXPECT_NEAR(diag::summarize(e).elbo, (-3.0 - 1.5 - 2.5) / 3, 1e-12);
}

}  // namespace
}  // namespace elbo
