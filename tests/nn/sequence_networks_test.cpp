// The 1-D convolutional sequence networks and the autoregressive sequence head.
#include "elbo/model/vae.h"
#include "elbo/nn/autoregressive_sequence.h"
#include "elbo/nn/sequence_conv.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo {
namespace {

TEST(SequenceConv, EncoderAndDecoderRestoreEveryLength) {
  torch::manual_seed(0);
  for (int64_t length : {1, 7, 37, 200}) {
    nn::SequenceEncoder encoder(nn::SequenceConvOptions(length, 4, 6).channels({8, 8, 8}).kernel(5));
    nn::SequenceDecoder decoder(nn::SequenceConvOptions(length, 3, 6).channels({8, 8, 8}).kernel(5));
    EXPECT_EQ(encoder->forward(torch::rand({2, 5, 4 * length})).sizes(), (std::vector<int64_t>{2, 5, 6}));
    EXPECT_EQ(decoder->forward(torch::rand({2, 5, 6})).sizes(), (std::vector<int64_t>{2, 5, 3 * length}));
  }
}

TEST(SequenceConv, DecoderOutputIsPositionMajor) {
  // Each output position's values come from the transposed convolutions at that position: permuting
  // the decoder's channel-first result must give the [L, S] layout, so position 0's S values are
  // the first S entries. Check by perturbing one last-layer output channel through its bias.
  torch::manual_seed(1);
  nn::SequenceDecoder decoder(nn::SequenceConvOptions(10, 3, 4).channels({8}));
  const torch::Tensor z = torch::randn({1, 4});
  const torch::Tensor before = decoder->forward(z).view({10, 3});
  torch::NoGradGuard no_grad;
  decoder->named_parameters()["conv0.bias"][2] += 1.0;  // output channel 2 at every position
  const torch::Tensor change = decoder->forward(z).view({10, 3}) - before;
  EXPECT_TRUE(torch::allclose(change.select(1, 2), torch::ones({10}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(change.narrow(1, 0, 2), torch::zeros({10, 2}), 1e-6, 1e-6));
}

TEST(SequenceConv, EvenKernelsAreRefused) {
  test::expect_invalid_argument([] { nn::SequenceEncoder(nn::SequenceConvOptions(10, 4, 2).kernel(4)); }, {"must be odd"});
}

/// The head with features [L, H] for a tiny alphabet, in float64; weights and features from seed 2.
struct TinyHead {
  nn::AutoregressiveSequence head{nullptr};
  torch::Tensor features;
  explicit TinyHead(int64_t length) {
    torch::manual_seed(2);
    head = nn::AutoregressiveSequence(2, 6, 5, 2, nn::Activation::tanh);
    head->to(torch::kDouble);
    features = torch::randn({length, 6}, torch::kDouble);
  }
};

TEST(AutoregressiveSequence, PositionsReadOnlyTheirContext) {
  // Changing symbol j changes the logits of positions j+1 .. j+K and of no other.
  TinyHead t(8);
  const torch::Tensor x = torch::tensor({0, 1, 1, 0, 1, 0, 0, 1}, torch::kDouble);
  const torch::Tensor base = t.head->logits(t.features, x);
  for (int64_t j = 0; j < 8; ++j) {
    torch::Tensor flipped = x.clone();
    flipped[j] = 1 - flipped[j];
    const torch::Tensor moved = (t.head->logits(t.features, flipped) - base).abs().sum(-1) > 1e-12;
    for (int64_t i = 0; i < 8; ++i)
      EXPECT_EQ(moved[i].item<bool>(), i > j && i <= j + 2) << "symbol " << j << ", position " << i;
  }
}

TEST(AutoregressiveSequence, ProbabilitiesOfAllSequencesSumToOne) {
  TinyHead t(5);
  const nn::AutoregressiveCategorical p(t.head, t.features);
  double total = 0;
  for (int64_t code = 0; code < 32; ++code) {
    torch::Tensor x = torch::empty({5}, torch::kDouble);
    for (int64_t i = 0; i < 5; ++i) x[i] = static_cast<double>((code >> i) & 1);
    total += std::exp(p.log_prob(x).item<double>());
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(AutoregressiveSequence, SamplesFollowTheScoredDistribution) {
  // Frequencies of the 8 sequences of length 3 among n ancestral samples against exp(log p):
  // each within 4 binomial standard errors.
  TinyHead t(3);
  const nn::AutoregressiveCategorical p(t.head, t.features);
  const int64_t n = 40000;
  torch::manual_seed(3);
  const torch::Tensor draws = p.sample(n);  // [n, 3]
  ASSERT_EQ(draws.sizes(), (std::vector<int64_t>{n, 3}));
  const torch::Tensor codes = (draws.select(1, 0) + 2 * draws.select(1, 1) + 4 * draws.select(1, 2)).to(torch::kLong);
  const torch::Tensor counts = torch::bincount(codes, {}, 8).to(torch::kDouble);
  for (int64_t code = 0; code < 8; ++code) {
    const torch::Tensor x = torch::tensor({code & 1, (code >> 1) & 1, (code >> 2) & 1}, torch::kDouble);
    const double prob = std::exp(p.log_prob(x).item<double>());
    const double se = std::sqrt(prob * (1 - prob) / n);
    EXPECT_NEAR(counts[code].item<double>() / n, prob, 4 * se) << "sequence " << code;
  }
}

TEST(AutoregressiveSequence, StepByStepDecodingMatchesTeacherForcing) {
  // The greedy path's conditionals, computed incrementally, equal those of scoring the path in one pass.
  TinyHead t(9);
  const torch::Tensor probs = nn::AutoregressiveCategorical(t.head, t.features).mean();  // [9, 2]
  const torch::Tensor path = probs.argmax(-1).to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(probs, torch::softmax(t.head->logits(t.features, path), -1), 1e-10, 1e-12));
}

TEST(AutoregressiveSequence, ScoresBroadcastOverParticles) {
  // Features [K, B, L, H] score symbols [B, L] particle by particle.
  TinyHead t(4);
  const torch::Tensor features = torch::randn({3, 2, 4, 6}, torch::kDouble);
  const torch::Tensor x = torch::tensor({{0, 1, 1, 0}, {1, 1, 0, 0}}, torch::kDouble);
  const torch::Tensor all = nn::AutoregressiveCategorical(t.head, features).log_prob(x);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{3, 2}));
  const double one = nn::AutoregressiveCategorical(t.head, features[2][1]).log_prob(x[1]).item<double>();
  EXPECT_NEAR(all[2][1].item<double>(), one, 1e-12);
}

TEST(SequenceVae, AutoregressiveConvolutionalModelScoresOneHotSequences) {
  torch::manual_seed(4);
  model::VaeOptions o;
  o.features = 30;
  o.latent_dim = 3;
  o.encoder = o.decoder = "conv1d";
  o.channels = {8, 8};
  o.kernel = 5;
  o.likelihood = "categorical";
  o.context = 3;
  o.context_hidden = 16;
  model::Vae vae(o);
  data::Batch batch{torch::randint(0, 4, {5, 30}).to(torch::kFloat)};
  batch.mask = torch::ones({5, 30});
  batch.mask[0][7] = 0;
  const model::Trace trace = vae->forward(batch, 2);
  EXPECT_EQ(trace.log_likelihood().sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(torch::isfinite(trace.log_weights()).all().item<bool>());
  const torch::Tensor samples = vae->likelihood(vae->sample_prior(6))->sample();
  EXPECT_EQ(samples.sizes(), (std::vector<int64_t>{6, 30}));
  EXPECT_TRUE(((samples >= 0) & (samples < 4) & (samples == samples.round())).all().item<bool>());
  // An unobserved position is all zeros in the encoder's one-hot input: its value must not matter.
  data::Batch other = batch;
  other.x = batch.x.clone();
  other.x[0][7] = 3 - batch.x[0][7].item<double>();
  const auto q1 = vae->posterior(batch), q2 = vae->posterior(other);
  EXPECT_TRUE(torch::allclose(q1->mean(), q2->mean()));
}

TEST(SequenceVae, ContextNeedsACategoricalLikelihood) {
  model::VaeOptions o;
  o.features = 12;
  o.context = 2;
  test::expect_invalid_argument([&] { model::Vae{o}; }, {"model.context = 2", "categorical"});
}

}  // namespace
}  // namespace elbo
