// M2 (Kingma et al. 2014): the unlabelled bound is sum_y q(y|x) L(x, y) + H(q(y|x)) of the
// labelled bounds, labels steer the decoder, the classification term reaches q(y|x), and on
// two separable clusters with two labels each M2 learns to classify the unlabelled rest.
#include "elbo/core/rng.h"
#include "elbo/model/m2.h"
#include "elbo/nn/mlp.h"
#include "elbo/objective/elbo.h"
#include "elbo/objective/iwae.h"
#include "elbo/train/trainer.h"

#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo::model {
namespace {

using torch::Tensor;

M2Options small(int64_t features = 6, int64_t classes = 3) {
  M2Options o;
  o.features = features;
  o.classes = classes;
  o.latent_dim = 2;
  o.hidden = {8};
  return o;
}

Batch binary_batch(int64_t b, int64_t f, uint64_t seed) {
  torch::manual_seed(seed);
  Batch batch;
  batch.x = torch::bernoulli(torch::full({b, f}, 0.5, torch::kDouble));
  return batch;
}

TEST(M2, UnlabelledBoundIsTheLabelledBoundsAveragedUnderQPlusItsEntropy) {
  torch::manual_seed(1);
  M2 m(small());
  m->to(torch::kDouble);
  Batch unlabelled = binary_batch(4, 6, 2);
  torch::manual_seed(7);
  const Trace t = m->forward(unlabelled, 3);
  ASSERT_NE(t.enumerated(), nullptr);
  EXPECT_EQ(t.find("z")->value.sizes(), (std::vector<int64_t>{3, 3, 4, 2}));  // [C, K, B, D]
  EXPECT_EQ(t.find("x")->log_p.sizes(), (std::vector<int64_t>{3, 3, 4}));
  const Tensor u = t.log_likelihood().mean(0) - t.kl().mean(0);
  const Tensor log_q = m->classify(unlabelled);  // [B, C]
  Tensor expected = -(log_q.exp() * log_q).sum(-1);  // H(q(y|x))
  for (int64_t c = 0; c < 3; ++c) {
    Batch labelled = unlabelled;
    labelled.y = torch::full({4}, c, torch::kLong);
    torch::manual_seed(7);  // the same noise: the particles of class c are the same
    const Trace tc = m->forward(labelled, 3);
    const Tensor bound = tc.log_likelihood().mean(0) - tc.kl().mean(0);  // L(x, c), log p(c) included
    expected = expected + log_q.select(1, c).exp() * bound;
  }
  EXPECT_TRUE(torch::allclose(u, expected, 1e-10, 1e-10)) << u << "\n" << expected;
}

TEST(M2, PosteriorIsTheEncoderOnTheInputBesideTheOneHotLabel) {
  // encode() forms the first layer's product by parts (x once, the label's column added); the
  // encoder MLP run on [x, onehot(y)] gives the same q(z | x, y).
  torch::manual_seed(4);
  M2 m(small());
  m->to(torch::kDouble);
  Batch batch = binary_batch(5, 6, 3);
  batch.y = torch::tensor({2, 0, 1, 1, 2}, torch::kLong);
  const auto q = std::dynamic_pointer_cast<dist::Normal>(m->posterior(batch));
  ASSERT_NE(q, nullptr);
  auto encoder = std::dynamic_pointer_cast<nn::MlpImpl>(m->named_children()["encoder"]);
  ASSERT_NE(encoder, nullptr);
  const Tensor raw = encoder->forward(torch::cat({batch.x, torch::one_hot(batch.y, 3).to(torch::kDouble)}, 1));
  const dist::Normal expected = dist::posterior_from_raw(raw);
  EXPECT_TRUE(torch::allclose(q->loc(), expected.loc(), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(q->log_scale(), expected.log_scale(), 1e-12, 1e-12));
}

TEST(M2, LabelledRowsIgnoreTheClassifierAndPartialLabelsMix) {
  torch::manual_seed(3);
  M2 m(small());
  m->to(torch::kDouble);
  Batch batch = binary_batch(4, 6, 4);
  batch.y = torch::tensor({2, 0, 1, 1}, torch::kLong);
  batch.y_mask = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble);
  const Trace t = m->forward(batch, 1);
  const Tensor w = t.enumerated()->weight;  // [C, B]
  EXPECT_TRUE(torch::allclose(w.select(1, 0), torch::tensor({0.0, 0.0, 1.0}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(w.select(1, 1), m->classify(batch)[1].exp()));
  const objective::Value v = objective::beta_elbo(t, 1.0, /*analytic_kl=*/false, 0.0, /*classification_weight=*/5.0);
  v.loss.backward();
  // The classification term and the unlabelled rows' weights both reach q(y|x).
  bool classifier_has_gradient = false;
  for (const auto& p : m->named_parameters())
    if (p.key().rfind("classifier", 0) == 0 && p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0)
      classifier_has_gradient = true;
  EXPECT_TRUE(classifier_has_gradient);
  // With K = 1 and the Monte Carlo KL, a labelled row's IWAE log-weight is its ELBO.
  const Tensor iwae = objective::log_mean_exp(t.log_weights());
  EXPECT_NEAR(iwae[0].item<double>(), v.bound[0].item<double>(), 1e-9);
}

TEST(M2, RefusesLabelsOutsideItsClasses) {
  M2 m(small());
  Batch batch = binary_batch(2, 6, 5);
  batch.x = batch.x.to(torch::kFloat);
  batch.y = torch::tensor({0, 3}, torch::kLong);
  test::expect_invalid_argument([&] { m->forward(batch, 1); }, {"label 3 is outside 0..2"});
  test::expect_invalid_argument([&] { m->likelihood(torch::zeros({1, 2}), torch::tensor({5}, torch::kLong)); },
                                {"label 5 is outside 0..2"});
}

/// Two classes of 20-dimensional binary vectors: class c has pixels on with probability 0.9 in
/// its half and 0.1 in the other.
data::Dataset clusters(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  data::Dataset d;
  d.y = torch::randint(0, 2, {n}, torch::kLong);
  const Tensor half = torch::arange(20).lt(10).to(torch::kFloat);  // 1 in the first half
  const Tensor p = torch::where(d.y.unsqueeze(1).eq(0), 0.1 + 0.8 * half, 0.9 - 0.8 * half);
  d.x = torch::bernoulli(p);
  d.name = "clusters";
  return d;
}

TEST(M2, LearnsToClassifyFromTwoLabelsPerClass) {
  data::Dataset train = clusters(400, 11), test = clusters(200, 12);
  train.y_mask = torch::zeros({400});
  int64_t kept[2] = {0, 0};
  for (int64_t i = 0; i < 400; ++i) {
    const int64_t c = train.y[i].item<int64_t>();
    if (kept[c] < 2) train.y_mask[i] = 1.0, ++kept[c];
  }
  seed_stream(1, RngStream::init);
  M2 m(small(20, 2));
  auto objective = std::make_shared<objective::Elbo>(objective::ElboOptions().classification_weight(0.1 * 400 / 4));
  train::TrainerOptions o;
  o.epochs = 30;
  o.batch_size = 50;
  train::Trainer trainer(m.ptr(), objective, o);
  trainer.fit(train, data::Dataset());
  EXPECT_EQ(trainer.train_step(), "fused");
  torch::NoGradGuard no_grad;
  const Tensor predicted = m->classify(test.slice(0, 200)).argmax(-1);
  const double error = predicted.ne(test.y).to(torch::kDouble).mean().item<double>();
  EXPECT_LT(error, 0.05) << "test error " << error;
}

}  // namespace
}  // namespace elbo::model
