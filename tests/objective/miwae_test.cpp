// MIWAE (Mattei & Frellsen 2019) is the IWAE bound of a trace whose observed site carries the
// data's mask: with nothing missing it is the IWAE bound, and a missing entry's value reaches
// neither the bound nor any gradient.
#include "elbo/core/config.h"
#include "elbo/objective/factory.h"
#include "elbo/objective/iwae.h"
#include "elbo/model/vae.h"

#include <gtest/gtest.h>

#include <limits>

namespace elbo {
namespace {

model::Vae masked_vae() {
  model::VaeOptions o;
  o.features = 6;
  o.latent_dim = 2;
  o.hidden = {8};
  o.activation = nn::Activation::tanh;
  o.likelihood = "gaussian";
  o.encoder_mask = true;
  torch::manual_seed(3);
  return model::Vae(o);
}

/// The MIWAE-4 bound and the gradient of its loss for every parameter, drawn with a fixed seed.
std::pair<torch::Tensor, std::vector<torch::Tensor>> bound_and_gradients(model::Vae& vae, const data::Batch& batch) {
  Config c;
  c.set("objective.type = \"miwae\"");
  c.set("objective.particles = 4");
  const auto objective = objective::make_objective(c);
  vae->zero_grad();
  torch::manual_seed(5);
  const objective::Value v = (*objective)(vae->forward(batch, objective->particles()), 0);
  v.loss.backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : vae->parameters()) grads.push_back(p.grad().clone());
  return {v.bound, grads};
}

TEST(Miwae, IsTheIwaeObjective) {
  Config c;
  c.set("objective.type = \"miwae\"");
  c.set("objective.particles = 7");
  const auto objective = objective::make_objective(c);
  ASSERT_NE(dynamic_cast<const objective::Iwae*>(objective.get()), nullptr);
  EXPECT_EQ(objective->particles(), 7);
}

TEST(Miwae, EqualsIwaeWhenNothingIsMissing) {
  model::Vae vae = masked_vae();
  torch::manual_seed(1);
  data::Batch complete{torch::randn({5, 6})};
  data::Batch all_observed = complete;
  all_observed.mask = torch::ones({5, 6});
  const auto [a, ga] = bound_and_gradients(vae, complete);
  const auto [b, gb] = bound_and_gradients(vae, all_observed);
  EXPECT_TRUE(torch::equal(a, b));
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_TRUE(torch::equal(ga[i], gb[i])) << "parameter " << i;
}

TEST(Miwae, AMissingEntryChangesNoGradient) {
  model::Vae vae = masked_vae();
  torch::manual_seed(2);
  data::Batch batch{torch::randn({5, 6}), (torch::rand({5, 6}) > 0.35).to(torch::kFloat)};
  const torch::Tensor missing = batch.mask == 0;
  ASSERT_GT(missing.sum().item<int64_t>(), 0);
  const auto [bound, grads] = bound_and_gradients(vae, batch);
  for (double value : {1e3, -7.0, std::numeric_limits<double>::quiet_NaN()}) {
    data::Batch changed = batch;
    changed.x = batch.x.masked_fill(missing, value);
    const auto [b, g] = bound_and_gradients(vae, changed);
    EXPECT_TRUE(torch::equal(b, bound)) << "missing value " << value;
    for (size_t i = 0; i < g.size(); ++i) EXPECT_TRUE(torch::equal(g[i], grads[i])) << "parameter " << i << ", value " << value;
  }
  // An observed entry does change them (the comparison above can fail).
  data::Batch changed = batch;
  changed.x = batch.x.masked_fill(~missing, 1.0);
  EXPECT_FALSE(torch::equal(bound_and_gradients(vae, changed).first, bound));
}

}  // namespace
}  // namespace elbo
