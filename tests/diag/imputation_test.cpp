// Multiple imputation by sampling importance resampling against probabilistic PCA, whose
// p(x_mis | x_obs) is a closed-form Gaussian: draws, weighted mean, log-likelihood of the hidden
// values and interval coverage, with tolerances from the effective sample size.
#include "elbo/data/missing.h"
#include "elbo/diag/imputation.h"
#include "support/linear_gaussian.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace elbo {
namespace {

/// p(x_m | x_o) of x ~ N(b, W W^T + s^2 I): mean and covariance over the missing indices.
struct Conditional {
  torch::Tensor mean, cov;
};
Conditional conditional(const torch::Tensor& W, const torch::Tensor& b, double s, const torch::Tensor& x,
                        const torch::Tensor& observed) {
  const torch::Tensor C = W.mm(W.t()) + s * s * torch::eye(W.size(0), torch::kDouble);
  const torch::Tensor o = observed.nonzero().view(-1), m = (~observed).nonzero().view(-1);
  const torch::Tensor Coo = C.index_select(0, o).index_select(1, o), Cmo = C.index_select(0, m).index_select(1, o);
  const torch::Tensor Cmm = C.index_select(0, m).index_select(1, m);
  const torch::Tensor gain = Cmo.mm(torch::inverse(Coo));
  return {b.index_select(0, m) + gain.mv(x.index_select(0, o) - b.index_select(0, o)), Cmm - gain.mm(Cmo.t())};
}

double log_normal(const torch::Tensor& x, const Conditional& c) {
  const torch::Tensor r = x - c.mean;
  return -0.5 * (r.dot(torch::inverse(c.cov).mv(r)) + torch::logdet(c.cov) + r.numel() * std::log(2 * M_PI))
                    .item<double>();
}

const torch::Tensor kBias = torch::tensor({0.1, -0.2, 0.3}, torch::kDouble);
constexpr double kNoise = 0.5;

TEST(Impute, SirDrawsFollowTheClosedFormConditional) {
  // The proposal q(z | x with missing entries zeroed), widened: wrong, and SIR must correct it.
  testing::LinearGaussian model(testing::correlated_loadings(), kBias, kNoise, 0.0, 0.5);
  data::Dataset d;
  d.x = torch::tensor({{0.8, 0.3, -0.1}}, torch::kDouble);  // x2, x3 hidden (their true values kept)
  d.mask = torch::tensor({{1.0, 0.0, 0.0}}, torch::kDouble);
  d.hidden = 1 - d.mask;
  diag::ImputationOptions o;
  o.particles = 20000;
  o.draws = 20000;
  o.max_elements = 1 << 26;
  const diag::Imputation imp = diag::impute(model, d, o);
  const Conditional exact = conditional(testing::correlated_loadings(), kBias, kNoise, d.x[0], d.mask[0] > 0);

  ASSERT_EQ(imp.draws.sizes(), (std::vector<int64_t>{20000, 1, 3}));
  EXPECT_TRUE((imp.draws.select(2, 0) == 0.8).all().item<bool>()) << "observed entries stay as given";
  const torch::Tensor missing = imp.draws.select(1, 0).slice(1, 1, 3);  // [M, 2]
  const double ess = imp.effective_sample_size[0].item<double>();
  ASSERT_GT(ess, 1000) << "the proposal is too poor for this test";
  const double share = 1 / ess + 1.0 / o.draws;  // resampled draws: noise of the weights plus of the draws
  const torch::Tensor var = torch::diagonal(exact.cov);
  const torch::Tensor mean = missing.mean(0), centred = missing - mean;
  const torch::Tensor cov = centred.t().mm(centred) / (o.draws - 1);
  EXPECT_TRUE(((mean - exact.mean).abs() <= 5 * (var * share).sqrt()).all().item<bool>())
      << mean << " vs " << exact.mean;
  const torch::Tensor cov_se = ((var.outer(var) + exact.cov.square()) * share).sqrt();
  EXPECT_TRUE(((cov - exact.cov).abs() <= 5 * cov_se).all().item<bool>()) << cov << " vs " << exact.cov;
  // The weighted mean sum_k w_k E[x | z_k]: its spread is below that of x_mis itself.
  const torch::Tensor weighted = imp.mean[0].slice(0, 1, 3);
  EXPECT_TRUE(((weighted - exact.mean).abs() <= 5 * (var / ess).sqrt()).all().item<bool>())
      << weighted << " vs " << exact.mean;
  EXPECT_NEAR(imp.hidden_log_likelihood[0].item<double>(), log_normal(d.x[0].slice(0, 1, 3), exact), 0.05);
}

TEST(Impute, IntervalsCoverDataDrawnFromTheModel) {
  testing::LinearGaussian model(testing::correlated_loadings(), kBias, kNoise, 0.0, 0.5);
  torch::manual_seed(11);
  data::Dataset complete;
  complete.x = model.sample_data(1000);
  complete.name = "ppca";
  data::MissingOptions mcar;
  mcar.pattern = "mcar";
  mcar.rate = 0.3;
  const data::Dataset d = data::drop_empty_rows(data::hide_entries(complete, mcar, 1));
  diag::ImputationOptions o;
  o.particles = 2000;
  o.draws = 400;
  const diag::ImputationScores s = diag::score_imputation(model, d, o);
  ASSERT_EQ(s.hidden, d.hidden.sum().item<int64_t>());
  ASSERT_GT(s.hidden, 600);
  const double h = static_cast<double>(s.hidden);
  // Binomial error of the coverage, plus 0.02 for the quantiles of finitely many resampled draws.
  EXPECT_NEAR(s.coverage90, 0.90, 4 * std::sqrt(0.09 / h) + 0.02);
  EXPECT_NEAR(s.coverage50, 0.50, 4 * std::sqrt(0.25 / h) + 0.02);
  // log p(x_hid | x_obs) per hidden entry and the RMSE of the conditional mean, in closed form.
  double log_lik = 0, squared = 0;
  for (int64_t i = 0; i < d.size(); ++i) {
    const torch::Tensor observed = d.mask[i] > 0;
    if (observed.all().item<bool>()) continue;
    const Conditional c = conditional(testing::correlated_loadings(), kBias, kNoise, d.x[i], observed);
    const torch::Tensor truth = d.x[i].masked_select(~observed);
    log_lik += log_normal(truth, c);
    squared += (truth - c.mean).square().sum().item<double>();
  }
  EXPECT_NEAR(s.log_likelihood, log_lik / h, 0.02);
  EXPECT_NEAR(s.rmse, std::sqrt(squared / h), 0.02);
  EXPECT_GT(s.effective_sample_size, 100);
}

TEST(Impute, RefusesModelsWithoutACodeAndDataWithoutHiddenEntries) {
  testing::LinearGaussian model(testing::correlated_loadings(), kBias, kNoise);
  data::Dataset d;
  d.x = torch::zeros({2, 3}, torch::kDouble);
  d.name = "complete";
  try {
    diag::score_imputation(model, d);
    ADD_FAILURE() << "did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'complete' has no hidden entries"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace elbo
