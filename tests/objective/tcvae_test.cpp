#include "elbo/dist/normal.h"
#include "elbo/objective/elbo.h"
#include "elbo/objective/tcvae.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

namespace elbo {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

/// One latent site with a Gaussian q of parameters [B, D] and particles z [K, B, D], and an
/// observed site "x" with log p(x|z) = -50.
model::Trace gaussian_trace(const torch::Tensor& mu, const torch::Tensor& log_sigma, const torch::Tensor& z) {
  model::Site g;
  g.name = "z";
  g.kind = model::SiteKind::latent;
  g.value = z;
  g.q = std::make_shared<dist::Normal>(mu, log_sigma);
  g.q_mean = mu;
  g.log_q = torch::zeros({z.size(0), z.size(1)}, torch::kDouble);
  g.log_p = torch::zeros({z.size(0), z.size(1)}, torch::kDouble);
  g.kl = torch::ones({1, z.size(1), z.size(2)}, torch::kDouble);
  model::Site x;
  x.name = "x";
  x.kind = model::SiteKind::observed;
  x.log_p = -torch::ones({z.size(0), z.size(1)}, torch::kDouble) * 50;
  model::Trace t;
  t.sites = {g, x};
  return t;
}

double log_normal(double x, double mu, double log_sigma) {
  const double u = (x - mu) / std::exp(log_sigma);
  return -0.5 * u * u - log_sigma - 0.5 * kLog2Pi;
}

TEST(TotalCorrelation, IdenticalPosteriorsGiveDMinusOneLogN) {
  // M identical posteriors: both estimates see log M + log q(z|x); TC = (D - 1) log N.
  const int64_t B = 5, D = 3, N = 1000;
  torch::manual_seed(3);
  auto mu = torch::randn({1, D}, torch::kDouble).expand({B, D});
  auto ls = (0.3 * torch::randn({1, D}, torch::kDouble)).expand({B, D});
  auto z = torch::randn({2, B, D}, torch::kDouble);
  auto tc = objective::total_correlation(gaussian_trace(mu, ls, z), N);
  ASSERT_EQ(tc.sizes(), (std::vector<int64_t>{2, B}));
  EXPECT_TRUE(torch::allclose(tc, torch::full({2, B}, (D - 1) * std::log(double(N)), torch::kDouble), 1e-10, 1e-10));
}

TEST(TotalCorrelation, MatchesTheMinibatchWeightedFormulaByHand) {
  const int64_t K = 2, B = 4, D = 3, N = 60000;
  torch::manual_seed(7);
  auto mu = torch::randn({B, D}, torch::kDouble);
  auto ls = 0.5 * torch::randn({B, D}, torch::kDouble);
  auto z = torch::randn({K, B, D}, torch::kDouble);
  auto tc = objective::total_correlation(gaussian_trace(mu, ls, z), N);
  const double log_nm = std::log(double(N) * B);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < B; ++i) {
      double joint = 0, marginals = 0;
      for (int64_t j = 0; j < B; ++j) {
        double l = 0;
        for (int64_t d = 0; d < D; ++d)
          l += log_normal(z[k][i][d].item<double>(), mu[j][d].item<double>(), ls[j][d].item<double>());
        joint += std::exp(l);
      }
      for (int64_t d = 0; d < D; ++d) {
        double s = 0;
        for (int64_t j = 0; j < B; ++j)
          s += std::exp(log_normal(z[k][i][d].item<double>(), mu[j][d].item<double>(), ls[j][d].item<double>()));
        marginals += std::log(s) - log_nm;
      }
      EXPECT_NEAR(tc[k][i].item<double>(), std::log(joint) - log_nm - marginals, 1e-9) << k << "," << i;
    }
}

TEST(TcVae, LossIsTheElboLossPlusWeightedTotalCorrelation) {
  const int64_t B = 4, D = 2, N = 100;
  torch::manual_seed(11);
  auto t = gaussian_trace(torch::randn({B, D}, torch::kDouble), 0.2 * torch::randn({B, D}, torch::kDouble),
                          torch::randn({1, B, D}, torch::kDouble));
  const double elbo_loss = objective::beta_elbo(t, 1.0, true).loss.item<double>();
  const double tc = objective::total_correlation(t, N).mean().item<double>();
  EXPECT_NEAR(objective::TcVae(1, 1.0, N)(t, 0).loss.item<double>(), elbo_loss, 1e-12) << "beta = 1 is the ELBO";
  objective::Value v = objective::TcVae(1, 6.0, N)(t, 0);
  EXPECT_NEAR(v.loss.item<double>(), elbo_loss + 5.0 * tc, 1e-12);
  ASSERT_EQ(v.metrics.size(), 1u);
  EXPECT_NEAR(v.metrics[0].second.item<double>(), tc, 1e-12);
  EXPECT_THROW(objective::TcVae(1, 6.0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace elbo
