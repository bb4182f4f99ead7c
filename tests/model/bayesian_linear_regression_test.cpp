// Bayesian linear regression with a global site against its closed forms: the mean-field
// optimum (means = exact posterior mean, variances = 1 / diag(posterior precision)) is what
// training reaches, its ELBO is the closed-form ELBO, and each batch carries its share of the KL.
#include "elbo/core/rng.h"
#include "elbo/model/bayesian_linear_regression.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/trainer.h"

#include "support/monte_carlo.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo::model {
namespace {

using torch::Tensor;

constexpr int64_t kN = 200, kP = 3;
constexpr double kPrior = 1.0, kNoise = 0.5;

data::Dataset regression_data() {
  torch::manual_seed(5);
  data::Dataset d;
  d.x = torch::randn({kN, kP}, torch::kDouble);
  const Tensor w = torch::tensor({0.8, -1.2, 0.3}, torch::kDouble);
  d.target = (torch::matmul(d.x, w) + kNoise * torch::randn({kN}, torch::kDouble)).unsqueeze(1);
  d.name = "regression";
  return d;
}

/// The exact posterior's mean and precision: Lambda = I / s_p^2 + X^T X / s^2, mu = Lambda^-1 X^T t / s^2.
struct Exact {
  Tensor mean, precision;
  explicit Exact(const data::Dataset& d) {
    precision = torch::eye(kP, torch::kDouble) / (kPrior * kPrior) +
                torch::matmul(d.x.transpose(0, 1), d.x) / (kNoise * kNoise);
    mean = torch::linalg_solve(precision, torch::matmul(d.x.transpose(0, 1), d.target.squeeze(1)) / (kNoise * kNoise));
  }
  /// The mean-field optimum's variances 1 / diag(Lambda).
  Tensor variances() const { return 1.0 / precision.diagonal(); }
  /// The ELBO of q = N(m, diag v): sum_n E_q log N(t_n; x_n . w, s^2) - KL(q || N(0, s_p^2 I)).
  double elbo(const data::Dataset& d, const Tensor& m, const Tensor& v) const {
    const Tensor residual = d.target.squeeze(1) - torch::matmul(d.x, m);
    const Tensor expected_sq = residual.square() + torch::matmul(d.x.square(), v);
    const double log_lik = (-0.5 * std::log(2 * M_PI * kNoise * kNoise) - expected_sq / (2 * kNoise * kNoise)).sum().item<double>();
    const double kl = (0.5 * (kPrior * kPrior / v).log() + (v + m.square()) / (2 * kPrior * kPrior) - 0.5).sum().item<double>();
    return log_lik - kl;
  }
};

BayesianLinearRegressionOptions options() {
  BayesianLinearRegressionOptions o;
  o.features = kP;
  o.examples = kN;
  o.prior_scale = kPrior;
  o.noise_scale = kNoise;
  return o;
}

TEST(BayesianLinearRegression, ElboAtTheMeanFieldOptimumIsTheClosedForm) {
  const data::Dataset d = regression_data();
  const Exact exact(d);
  BayesianLinearRegression m(options());
  m->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    m->named_parameters()["loc"].copy_(exact.mean);
    m->named_parameters()["log_scale"].copy_(0.5 * exact.variances().log());
  }
  torch::manual_seed(9);
  const Trace t = m->forward(d.slice(0, kN), 2000);
  ASSERT_NE(t.find("w"), nullptr);
  EXPECT_EQ(t.find("w")->kind, SiteKind::global);
  // Per particle: sum_n log p(t_n | w_k) - KL, whose mean over particles estimates the ELBO.
  const Tensor per_particle = t.log_likelihood().sum(1) - t.kl(true).sum(1);  // [K]
  test::expect_within_standard_errors(per_particle.mean(), torch::tensor(exact.elbo(d, exact.mean, exact.variances())),
                                      test::standard_error(per_particle), 4.0);
  // The analytic KL of the global site, shared out: N rows carry it once.
  const double kl = t.find("w")->kl.item<double>();
  EXPECT_NEAR(t.kl(true).sum().item<double>(), kl, 1e-9 * kl);
}

TEST(BayesianLinearRegression, EachBatchCarriesItsShareOfTheKl) {
  const data::Dataset d = regression_data();
  BayesianLinearRegression m(options());
  m->to(torch::kDouble);
  const Tensor kl = m->forward(d.slice(0, 10), 1).find("w")->kl;
  EXPECT_TRUE(torch::allclose(m->forward(d.slice(0, 10), 1).kl(true), (kl / kN).expand({1, 10})));
  const objective::Value v = objective::Elbo()(m->forward(d.slice(10, 60), 1), 0);
  EXPECT_NEAR(v.kl.sum().item<double>(), 50.0 / kN * kl.item<double>(), 1e-9);
}

TEST(BayesianLinearRegression, TrainingReachesTheMeanFieldOptimum) {
  const data::Dataset d = regression_data();
  data::Dataset train = d;
  train.x = d.x.to(torch::kFloat);
  train.target = d.target.to(torch::kFloat);
  const Exact exact(d);
  seed_stream(1, RngStream::init);
  BayesianLinearRegression m(options());
  train::TrainerOptions o;
  o.epochs = 4000;
  o.batch_size = kN;  // full batch: the optimum without minibatch noise
  o.lr = 0.001;
  o.log_every = 1000;
  auto objective = std::make_shared<objective::Elbo>(objective::ElboOptions().particles(64));
  train::Trainer trainer(m.ptr(), objective, o);
  trainer.fit(train, data::Dataset());
  EXPECT_EQ(trainer.train_step(), "autograd (the model is not model.type = vae, hvae, multimodal or m2)");
  const Tensor mean = m->weights().loc().to(torch::kDouble).detach();
  const Tensor variance = (2 * m->weights().log_scale()).exp().to(torch::kDouble).detach();
  EXPECT_TRUE(torch::allclose(mean, exact.mean, 0.02, 0.0)) << mean << "\nexact:\n" << exact.mean;
  EXPECT_TRUE(torch::allclose(variance, exact.variances(), 0.02, 0.0)) << variance << "\nexact:\n" << exact.variances();
}

TEST(BayesianLinearRegression, RefusesBatchesWithoutFloatTargets) {
  BayesianLinearRegression m(options());
  data::Batch b;
  b.x = torch::zeros({4, kP});
  test::expect_invalid_argument([&] { m->forward(b, 1); }, {"one float target per example [4, 1]"});
  test::expect_invalid_argument([&] { m->posterior(b); }, {"no per-example latent code"});
}

}  // namespace
}  // namespace elbo::model
