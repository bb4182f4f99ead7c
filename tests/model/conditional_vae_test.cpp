// Conditional VAE: encoder and decoder read onehot(y); labels are required and checked.
#include "elbo/model/factory.h"
#include "elbo/model/vae.h"
#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo {
namespace {

using torch::Tensor;
using torch::indexing::Slice;

/// 4 features, 2 latent dims, 3 classes, no hidden layers: encoder and decoder are one affine map each.
model::Vae tiny() {
  model::VaeOptions o;
  o.features = 4;
  o.image = ImageShape{1, 2, 2};
  o.latent_dim = 2;
  o.hidden = {};
  o.classes = 3;
  return model::Vae(o);
}

Tensor param(model::Vae& m, const std::string& name) { return m->named_parameters()[name].detach(); }

TEST(ConditionalVae, DecoderReadsOnehotOfTheLabel) {
  torch::manual_seed(21);
  model::Vae m = tiny();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(m->classes(), 3);
  Tensor z = torch::randn({2, 2});
  // Bernoulli logits a = W [z, onehot(y)] + b: changing y from 0 to 2 adds W[:, 2 + 2] - W[:, 2 + 0].
  Tensor w = param(m, "decoder.layer0.weight");  // [4, 2 + 3]
  EXPECT_EQ(w.size(1), 5);
  Tensor logits0 = torch::logit(m->likelihood(z, torch::tensor({0, 0}))->mean().to(torch::kDouble));
  Tensor logits2 = torch::logit(m->likelihood(z, torch::tensor({2, 2}))->mean().to(torch::kDouble));
  Tensor expected = (w.index({Slice(), 4}) - w.index({Slice(), 2})).to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(logits2 - logits0, expected.expand({2, 4}), 1e-4, 1e-4)) << logits2 - logits0 << expected;
  // Unlabelled codes cycle through the classes: rows 0, 1, 2, 0, ...
  Tensor codes = torch::randn({4, 2});
  EXPECT_TRUE(torch::allclose(m->likelihood(codes)->mean(), m->likelihood(codes, torch::tensor({0, 1, 2, 0}))->mean()));
  // Labels broadcast over particles: [K, B, D] codes with [B] labels.
  EXPECT_EQ(m->likelihood(torch::randn({5, 2, 2}), torch::tensor({1, 2}))->mean().sizes(), (std::vector<int64_t>{5, 2, 4}));
}

TEST(ConditionalVae, EncoderReadsTheLabel) {
  torch::manual_seed(22);
  model::Vae m = tiny();
  torch::NoGradGuard no_grad;
  Tensor x = torch::rand({2, 4});
  Tensor w = param(m, "encoder.layer0.weight");  // [2 * 2, 4 + 3]
  EXPECT_EQ(w.size(1), 7);
  const auto q0 = std::dynamic_pointer_cast<dist::Normal>(m->posterior(data::Batch{x, {}, torch::tensor({0, 0})}));
  const auto q1 = std::dynamic_pointer_cast<dist::Normal>(m->posterior(data::Batch{x, {}, torch::tensor({1, 1})}));
  ASSERT_TRUE(q0 && q1) << "the encoder's q is a diagonal Normal";
  Tensor shift = w.index({Slice(), 5}) - w.index({Slice(), 4});  // [mu (2), log sigma (2)]
  EXPECT_TRUE(torch::allclose(q1->loc() - q0->loc(), shift.index({Slice(0, 2)}).expand({2, 2}), 1e-5, 1e-5));
  // sigma = sigma_min + e^r (dist::posterior_from_raw): the label shifts the raw scale r.
  const auto raw_scale = [](const dist::Normal& q) { return (q.scale() - dist::kMinPosteriorScale).log(); };
  EXPECT_TRUE(torch::allclose(raw_scale(*q1) - raw_scale(*q0), shift.index({Slice(2, 4)}).expand({2, 2}), 1e-4, 1e-4));
  // forward scores x under the batch's own labels.
  model::Trace t = m->forward(data::Batch{x, {}, torch::tensor({2, 1})}, 3);
  EXPECT_EQ(t.log_likelihood().sizes(), (std::vector<int64_t>{3, 2}));
}

TEST(ConditionalVae, MissingOrOutOfRangeLabelsAreClearErrors) {
  model::Vae m = tiny();
  Tensor x = torch::rand({2, 4});
  test::expect_invalid_argument([&] { m->forward(data::Batch{x}, 1); },
                                {"model.conditional = true needs labels", "data.train_labels", "data.label_column"});
  test::expect_invalid_argument([&] { m->forward(data::Batch{x, {}, torch::tensor({0, 3})}, 1); },
                                {"label 3 is outside 0..2", "model.classes = 3"});
  test::expect_invalid_argument([&] { m->likelihood(torch::zeros({1, 2}), torch::tensor({-1})); },
                                {"label -1 is outside 0..2"});
}

TEST(ConditionalVae, ConfigBuildsItAndRefusesWhatItCannotDo) {
  Config c;
  c.set("model.conditional=true");
  c.set("model.hidden=[16]");
  auto m = model::make_model(c, 784, ImageShape{1, 28, 28});
  EXPECT_EQ(m->classes(), 10);
  c.set("model.classes=4");
  EXPECT_EQ(model::make_model(c, 784, ImageShape{1, 28, 28})->classes(), 4);
  c.set("model.encoder=conv");
  test::expect_invalid_argument([&] { model::make_model(c, 784, ImageShape{1, 28, 28}); },
                                {"model.conditional = true needs model.encoder = \"mlp\""});
  c.set("model.encoder=mlp");
  c.set("model.type=hvae");
  test::expect_invalid_argument([&] { model::make_model(c, 784, ImageShape{1, 28, 28}); },
                                {"model.conditional = true needs model.type = \"vae\""});
  // An unconditional model ignores labels.
  Config plain;
  plain.set("model.hidden=[16]");
  auto u = model::make_model(plain, 784, ImageShape{1, 28, 28});
  torch::NoGradGuard no_grad;
  Tensor z = torch::randn({3, 20});
  EXPECT_EQ(u->classes(), 0);
  EXPECT_TRUE(torch::equal(u->likelihood(z, torch::tensor({1, 2, 3}))->mean(), u->likelihood(z)->mean()));
}

}  // namespace
}  // namespace elbo
