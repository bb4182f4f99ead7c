// Mutual information, rate and distortion on probabilistic PCA, where I(x; z) is a closed form.
#include "elbo/diag/information.h"
#include "support/linear_gaussian.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo {
namespace {

TEST(Information, MutualInformationOfTheExactPosteriorIsTheClosedForm) {
  // q = p(z|x) and x ~ p(x): the aggregate posterior is the prior, so
  // I(x; z) = 0.5 log det(I + W^T W / s^2) = rate, and KL(q(z) || p(z)) = 0.
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::tensor({0.1, -0.2, 0.3}, torch::kDouble), 0.7);
  data::Dataset data = testing::ppca_data(model, 2000, 31);
  diag::Information info = diag::estimate_information(model, data, {.particles = 2});
  const double exact = model.mutual_information();  // ≈ 1.32 nats
  // Stated error: 4 standard errors of the mean over the N x particles terms, plus the
  // estimator's finite-N bias (InfoNCE with the true critic; for I = 1.3 nats and
  // N = 2000 it is below 0.01 nats).
  EXPECT_NEAR(info.mutual_information, exact, 4 * info.mutual_information_se + 0.01);
  EXPECT_LT(info.mutual_information_se, 0.03);
  EXPECT_NEAR(info.rate, exact, 4 * info.rate_se);
  EXPECT_NEAR(info.marginal_kl, 0.0, 4 * (info.rate_se + info.mutual_information_se) + 0.01);
  // -ELBO = rate + distortion = -log p(x) with the exact posterior.
  EXPECT_NEAR(info.rate + info.distortion, -model.log_evidence(data.x).mean().item<double>(),
              4 * info.distortion_se);
  EXPECT_NEAR(info.log_n, std::log(2000.0), 1e-12);
}

TEST(Information, TheEstimatorNeverExceedsLogN) {
  // A nearly noiseless model carries I ≈ 6.2 nats, more than log 50 ≈ 3.9: the
  // dataset estimator saturates at log N (its documented bias) and says so.
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::zeros({3}, torch::kDouble), 0.05);
  data::Dataset data = testing::ppca_data(model, 50, 31);
  diag::Information info = diag::estimate_information(model, data, {.particles = 4});
  ASSERT_GT(model.mutual_information(), 6.0);
  EXPECT_LE(info.mutual_information, info.log_n + 1e-9);
  EXPECT_GT(info.mutual_information, info.log_n - 0.3);  // saturated (measured: log N - 0.12),
  EXPECT_LT(info.mutual_information, model.mutual_information() - 2.0);  // far below the true I
  EXPECT_GT(info.marginal_kl, 1.0);                      // the bias moves into the marginal KL
}

TEST(Information, WrongInputIsRefused) {
  testing::LinearGaussian model(testing::orthogonal_loadings(), torch::zeros({3}, torch::kDouble), 0.7);
  data::Dataset one;
  one.x = torch::zeros({1, 3}, torch::kDouble);
  one.name = "one";
  test::expect_invalid_argument([&] { diag::estimate_information(model, one); }, {"at least 2 examples", "'one'"});
  data::Dataset two = testing::ppca_data(model, 4, 31);
  test::expect_invalid_argument([&] { diag::estimate_information(model, two, {.particles = 0}); },
                                {"particles must be >= 1", "0"});
}

}  // namespace
}  // namespace elbo
