// The hand-written multimodal step against the autograd path: the same training rows (all
// modalities, then each alone), the same noise, the same loss terms and gradients.
#include "elbo/core/rng.h"
#include "elbo/model/multimodal_vae.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/fused_multimodal_step.h"

#include "support/autograd_reference.h"
#include "support/chosen_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace elbo;

namespace {

/// Two Bernoulli modalities (5 and 4 columns, the second with its own expert widths) and one
/// categorical column of 3 classes.
model::MultimodalVae small_model(bool subsets, bool score_present) {
  model::MultimodalVaeOptions o;
  o.modalities = {{"a", 0, 5, "bernoulli"}, {"b", 5, 4, "bernoulli"}, {"label", 9, 1, "categorical", 3}};
  o.modalities[1].hidden = {6, 5};
  o.latent_dim = 3;
  o.hidden = {8};
  o.prior_scale = 0.8;
  o.subsets = subsets;
  o.subsets_score_present = score_present;
  torch::manual_seed(3);
  return model::MultimodalVae(o);
}

torch::Tensor small_data(int64_t rows) {
  torch::manual_seed(4);
  return torch::cat({torch::rand({rows, 9}), torch::randint(0, 3, {rows, 1}).to(torch::kFloat)}, 1);
}

void expect_autograd_values(model::MultimodalVae& m, const torch::Tensor& x, double beta, WorkerThreads* team) {
  m->train();
  model::Batch batch;
  batch.x = x;
  batch.mask = torch::ones_like(x);
  seed_stream(1, RngStream::step, 7);
  objective::Value ref = objective::beta_elbo(m->forward(batch, 1), beta, true);
  const std::vector<torch::Tensor> ref_grads = test::reference_gradients(*m, ref.loss);
  train::FusedMultimodalStep fused(*m, team);
  ASSERT_EQ(fused.training_rows(x.size(0)), ref.bound.size(0));
  seed_stream(1, RngStream::step, 7);
  const torch::Tensor eps = torch::randn({1, fused.training_rows(x.size(0)), m->latent_dim()})[0];
  const objective::Value v = fused(x, eps, beta);
  EXPECT_NEAR(v.loss.item<double>(), ref.loss.item<double>(), 1e-5 * std::abs(ref.loss.item<double>()));
  EXPECT_LT(test::max_relative_error(v.reconstruction, ref.reconstruction), 1e-5);
  EXPECT_LT(test::max_relative_error(v.kl, ref.kl), 1e-5);
  const auto params = m->named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(test::max_relative_error(params[i].value().grad(), ref_grads[i]), 1e-4) << params[i].key() << " beta " << beta;
}

}  // namespace

TEST(FusedMultimodalStep, SameLossTermsAndGradientsAsTheAutogradPath) {
  // Without subsets, with each modality alone scoring itself (MVAE) or every modality; one
  // thread and three uneven row blocks.
  const torch::Tensor x = small_data(101);
  WorkerThreads threads(3);
  for (const auto& [subsets, present] : {std::pair{false, false}, std::pair{true, false}, std::pair{true, true}}) {
    auto m = small_model(subsets, present);
    ASSERT_EQ(train::FusedMultimodalStep::unsupported(*m), "");
    SCOPED_TRACE(std::string(subsets ? "subsets" : "no subsets") + (present ? ", scoring all" : ""));
    expect_autograd_values(m, x, 1.0, nullptr);
    expect_autograd_values(m, x, 0.4, &threads);
  }
}

TEST(FusedMultimodalStep, AdamInsideTheStepGivesTheParametersOfGradientsThenAdamStep) {
  const torch::Tensor x = small_data(70);
  WorkerThreads threads(2);
  auto separate = small_model(true, false), inside = small_model(true, false);
  const auto options = torch::optim::AdamOptions(1e-2);
  torch::optim::Adam separate_adam(separate->parameters(), options), inside_adam(inside->parameters(), options);
  train::FusedMultimodalStep separate_step(*separate, &threads), inside_step(*inside, &threads);
  torch::manual_seed(5);
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor eps = torch::randn({separate_step.training_rows(70), 3});
    const double loss = separate_step(x, eps, 1.0).loss.item<double>();
    train::adam_step(separate_adam, &threads);
    EXPECT_EQ(inside_step(x, eps, 1.0, &inside_adam).loss.item<double>(), loss);
    ASSERT_TRUE(inside_step.updated());
    EXPECT_NEAR(inside_step.gradient_norm(), separate_step.gradient_norm(), 1e-6 * separate_step.gradient_norm());
  }
  const auto a = separate->parameters(), b = inside->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

TEST(FusedMultimodalStep, RefusesModelsItDoesNotImplement) {
  auto o = small_model(true, false)->options();
  o.modalities[0].likelihood = "gaussian";
  EXPECT_NE(train::FusedMultimodalStep::unsupported(*model::MultimodalVae(o)), "");
  o = small_model(true, false)->options();
  o.random_subsets = 1;
  EXPECT_NE(train::FusedMultimodalStep::unsupported(*model::MultimodalVae(o)), "");
  EXPECT_THROW(train::FusedMultimodalStep(*model::MultimodalVae(o)), std::exception);
}

TEST(FusedMultimodalStep, ChosenForCompleteRowsOtherwiseAutogradWithTheReason) {
  data::Dataset train;
  train.x = small_data(64);
  train.mask = torch::ones_like(train.x);
  train.modalities = small_model(true, false)->options().modalities;
  const auto choice = [&](std::vector<std::string> settings) {
    settings.insert(settings.begin(), {"model.type=\"multimodal\"", "model.hidden=[8]", "model.latent_dim=3"});
    return test::chosen_step(settings, train);
  };
  EXPECT_EQ(choice({"objective.subsets=true"}), "fused");
  EXPECT_EQ(choice({"objective.subsets=true", "objective.subset_terms=\"present\""}), "fused");
  EXPECT_EQ(choice({"objective.random_subsets=1"}), "autograd (objective.random_subsets > 0)");
  EXPECT_EQ(choice({"objective.kl=\"mc\""}), "autograd (objective.kl = mc)");
  train.mask[3].narrow(0, 0, 5).zero_();  // row 4 lacks modality a
  EXPECT_EQ(choice({}), "autograd (some rows lack a modality or values)");
}
