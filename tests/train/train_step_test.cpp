// Which train step runs: the fused step for the MLP VAE and the mean-field hierarchical VAE (also
// with warm-up, beta != 1, Monte Carlo KL and Gaussian or Laplace likelihoods), the autograd step
// with the reason for everything it does not support.
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/train/trainer.h"

#include <gtest/gtest.h>

namespace elbo::train {
namespace {

data::Dataset images(int64_t n, bool masked = false) {
  torch::manual_seed(3);
  data::Dataset d;
  d.x = torch::rand({n, 784});
  if (masked) d.mask = torch::ones({n, 784});
  d.image = ImageShape{1, 28, 28};
  return d;
}

/// The step chosen for `settings` over the default config, and (after one epoch on 64
/// examples) the step the trainer reports it ran.
std::pair<std::string, std::string> chosen(const std::vector<std::string>& settings, bool masked = false) {
  Config c;
  c.set("model.hidden=[32]");
  c.set("model.latent_dim=4");
  for (const auto& s : settings) c.set(s);
  const data::Dataset train = images(64, masked);
  auto model = model::make_model(c, data::Schema::of(train));
  auto objective = objective::make_objective(c, train.size());
  TrainerOptions o = TrainerOptions::from_config(c);
  o.epochs = 1;
  o.batch_size = 32;
  Trainer trainer(model, objective, o);
  const std::string before = choose_train_step(*model, *objective, train, trainer.optimizer(), o.fused).description;
  trainer.fit(train, data::Dataset());
  return {before, trainer.train_step()};
}

TEST(TrainStep, FusedForMlpVaesWithWarmupAndBeta) {
  for (const auto& settings : std::vector<std::vector<std::string>>{
           {}, {"objective.warmup_steps=100", "objective.beta=4"}, {"objective.beta=0.5"},
           {"model.likelihood=\"gaussian\""}, {"model.likelihood=\"laplace\"", "model.likelihood_scale=\"shared\""},
           {"model.likelihood=\"gaussian\"", "model.likelihood_scale=\"fixed\""}, {"objective.kl=\"mc\""},
           {"model.type=\"hvae\"", "model.latent_dims=[3, 2]"},
           {"model.type=\"hvae\"", "model.latent_dims=[3, 2]", "objective.kl=\"mc\""}}) {
    const auto [choice, ran] = chosen(settings);
    EXPECT_EQ(choice, "fused");
    EXPECT_EQ(ran, "fused");
  }
}

TEST(TrainStep, AutogradWithTheReasonOtherwise) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"objective.free_bits=0.5"}, "autograd (objective.free_bits > 0)"},
      {{"objective.particles=2"}, "autograd (objective.particles > 1)"},
      {{"objective.type=\"iwae\""}, "autograd (the objective is not the ELBO)"},
      {{"model.likelihood=\"poisson\""}, "autograd (the likelihood is not Bernoulli, Gaussian or Laplace)"},
      {{"model.type=\"hvae\"", "model.latent_dims=[3, 2]", "model.inference=\"structured\""},
       "autograd (the posterior is structured (model.inference))"},
      {{"train.fused=false"}, "autograd (train.fused = false)"},
  };
  for (const auto& [settings, expected] : cases) {
    const auto [choice, ran] = chosen(settings);
    EXPECT_EQ(choice, expected);
    EXPECT_EQ(ran, expected);
  }
  EXPECT_EQ(chosen({}, /*masked=*/true).second, "autograd (the data have missing entries)");
}

}  // namespace
}  // namespace elbo::train
