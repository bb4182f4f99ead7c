// The hand-written M2 step against the autograd path (M2::forward + objective::beta_elbo): the
// same noise, the same per-row terms, loss and gradients, with labelled and unlabelled rows.
#include "elbo/core/rng.h"
#include "elbo/model/m2.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/fused_m2_step.h"

#include "support/autograd_reference.h"
#include "support/chosen_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace elbo;

namespace {

constexpr int64_t kFeatures = 7, kClasses = 4, kLatent = 3;

model::M2 small_model(std::vector<int64_t> hidden) {
  model::M2Options o;
  o.features = kFeatures;
  o.classes = kClasses;
  o.latent_dim = kLatent;
  o.hidden = std::move(hidden);
  torch::manual_seed(3);
  return model::M2(o);
}

/// Binary rows, labels, and every third row's label known.
model::Batch small_batch(int64_t rows) {
  torch::manual_seed(4);
  model::Batch b;
  b.x = torch::bernoulli(torch::full({rows, kFeatures}, 0.4));
  b.y = torch::randint(0, kClasses, {rows}, torch::kLong);
  b.y_mask = (torch::arange(rows) % 3 == 0).to(torch::kFloat);
  return b;
}

void expect_autograd_values(model::M2& m, const model::Batch& batch, double beta, double alpha, WorkerThreads* team) {
  seed_stream(1, RngStream::step, 7);
  objective::Value ref = objective::beta_elbo(m->forward(batch, 1), beta, true, 0.0, alpha);
  const std::vector<torch::Tensor> ref_grads = test::reference_gradients(*m, ref.loss);
  train::FusedM2Step fused(*m, team, alpha);
  seed_stream(1, RngStream::step, 7);
  const int64_t rows = batch.size();
  const torch::Tensor eps = torch::randn(fused.noise_shape(rows)).reshape({-1, kLatent});
  const objective::Value v = fused(batch.x, batch.y, batch.y_mask, eps, beta);
  EXPECT_NEAR(v.loss.item<double>(), ref.loss.item<double>(), 1e-5 * std::abs(ref.loss.item<double>()));
  EXPECT_LT(test::max_relative_error(v.reconstruction, ref.reconstruction), 1e-5);
  EXPECT_LT(test::max_relative_error(v.kl, ref.kl), 1e-5);
  ASSERT_EQ(v.metrics.size(), ref.metrics.size());
  if (!ref.metrics.empty())
    EXPECT_NEAR(v.metrics[0].second.item<double>(), ref.metrics[0].second.item<double>(), 1e-4);
  const auto params = m->named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(test::max_relative_error(params[i].value().grad(), ref_grads[i]), 1e-4)
        << params[i].key() << " beta " << beta << " alpha " << alpha;
}

TEST(FusedM2Step, SameLossTermsAndGradientsAsTheAutogradPath) {
  // No hidden layer, one, two; labelled and unlabelled rows; with and without the classification
  // term; one thread and three uneven row blocks.
  const model::Batch batch = small_batch(101);
  WorkerThreads threads(3);
  for (const auto& hidden : {std::vector<int64_t>{}, std::vector<int64_t>{8}, std::vector<int64_t>{9, 5}}) {
    auto m = small_model(hidden);
    ASSERT_EQ(train::FusedM2Step::unsupported(*m), "");
    SCOPED_TRACE(std::to_string(hidden.size()) + " hidden layers");
    expect_autograd_values(m, batch, 1.0, 0.0, nullptr);
    expect_autograd_values(m, batch, 0.4, 25.0, &threads);
  }
}

TEST(FusedM2Step, BatchesWithoutLabelsAreUnlabelled) {
  model::Batch batch = small_batch(40);
  batch.y = torch::Tensor(), batch.y_mask = torch::Tensor();
  auto m = small_model({8});
  expect_autograd_values(m, batch, 1.0, 3.0, nullptr);
}

TEST(FusedM2Step, LabelsOutsideTheClassesAreRefused) {
  model::Batch batch = small_batch(6);
  batch.y[0] = kClasses;  // row 0 is labelled
  auto m = small_model({8});
  train::FusedM2Step fused(*m, nullptr, 1.0);
  EXPECT_THROW(fused(batch.x, batch.y, batch.y_mask, torch::zeros({kClasses * 6, kLatent}), 1.0), std::exception);
}

TEST(FusedM2Step, AdamInsideTheStepGivesTheParametersOfGradientsThenAdamStep) {
  const model::Batch batch = small_batch(70);
  WorkerThreads threads(2);
  auto separate = small_model({8}), inside = small_model({8});
  const auto options = torch::optim::AdamOptions(1e-2);
  torch::optim::Adam separate_adam(separate->parameters(), options), inside_adam(inside->parameters(), options);
  train::FusedM2Step separate_step(*separate, &threads, 5.0), inside_step(*inside, &threads, 5.0);
  torch::manual_seed(5);
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor eps = torch::randn({kClasses * 70, kLatent});
    const double loss = separate_step(batch.x, batch.y, batch.y_mask, eps, 1.0).loss.item<double>();
    train::adam_step(separate_adam, &threads);
    EXPECT_EQ(inside_step(batch.x, batch.y, batch.y_mask, eps, 1.0, &inside_adam).loss.item<double>(), loss);
    ASSERT_TRUE(inside_step.updated());
    EXPECT_NEAR(inside_step.gradient_norm(), separate_step.gradient_norm(), 1e-6 * separate_step.gradient_norm());
  }
  const auto a = separate->parameters(), b = inside->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

TEST(FusedM2Step, ChosenForBernoulliDataOtherwiseAutogradWithTheReason) {
  data::Dataset train;
  train.x = torch::bernoulli(torch::full({64, kFeatures}, 0.5));
  train.y = torch::randint(0, kClasses, {64}, torch::kLong);
  train.y_mask = (torch::arange(64) < 8).to(torch::kFloat);
  const auto choice = [&](std::vector<std::string> settings) {
    settings.insert(settings.begin(), {"model.type=\"m2\"", "model.hidden=[8]", "model.latent_dim=3"});
    return test::chosen_step(settings, train, kClasses, 8);
  };
  EXPECT_EQ(choice({}), "fused");
  EXPECT_EQ(choice({"objective.particles=2"}), "autograd (objective.particles > 1)");
  EXPECT_EQ(choice({"model.likelihood=\"gaussian\""}), "autograd (the likelihood is not Bernoulli)");
  train.mask = torch::ones_like(train.x);
  EXPECT_EQ(choice({}), "autograd (the data have missing entries)");
}

}  // namespace
