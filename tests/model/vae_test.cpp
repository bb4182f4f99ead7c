#include "elbo/model/factory.h"
#include "elbo/model/vae.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

using ::testing::HasSubstr;

namespace elbo {
namespace {

model::VaeOptions small(const std::string& likelihood = "bernoulli") {
  model::VaeOptions o;
  o.features = 12;
  o.image = ImageShape{1, 3, 4};
  o.latent_dim = 3;
  o.hidden = {16, 8};
  o.likelihood = likelihood;
  return o;
}

TEST(Vae, TermsHaveParticleAndBatchShapes) {
  torch::manual_seed(0);
  model::Vae vae(small());
  data::Batch batch{torch::rand({5, 12})};
  model::Trace t = vae->forward(batch, 3);
  EXPECT_EQ(t.log_likelihood().sizes(), (std::vector<int64_t>{3, 5}));
  ASSERT_EQ(t.latents().size(), 1u);
  const model::Site& z = *t.latents()[0];
  EXPECT_EQ(z.value.sizes(), (std::vector<int64_t>{3, 5, 3}));
  EXPECT_EQ(z.log_q.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(z.kl.sizes(), (std::vector<int64_t>{1, 5, 3}));
  EXPECT_EQ(t.log_weights().sizes(), (std::vector<int64_t>{3, 5}));
}

TEST(Vae, LogDensityTermsMatchTheirFormulas) {
  torch::manual_seed(1);
  model::Vae vae(small());
  data::Batch batch{torch::bernoulli(torch::full({4, 12}, 0.3))};
  model::Trace t = vae->forward(batch, 2);
  const auto q = std::dynamic_pointer_cast<dist::Normal>(vae->posterior(batch));
  ASSERT_TRUE(q) << "the encoder's q is a diagonal Normal";
  ASSERT_EQ(t.latents().size(), 1u);
  const model::Site& site = *t.latents()[0];
  const torch::Tensor& z = site.value;
  const double log2pi = std::log(2 * M_PI);
  torch::Tensor log_p = (-0.5 * (z.pow(2) + log2pi)).sum(-1);
  torch::Tensor eps = (z - q->loc()) / q->scale();
  torch::Tensor log_q = (-0.5 * (eps.pow(2) + log2pi) - q->log_scale()).sum(-1);
  torch::Tensor logits = torch::logit(vae->likelihood(z)->mean());
  torch::Tensor log_px = (batch.x * torch::log_sigmoid(logits) + (1 - batch.x) * torch::log_sigmoid(-logits)).sum(-1);
  EXPECT_TRUE(torch::allclose(site.log_p, log_p, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(site.log_q, log_q, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(t.log_likelihood(), log_px, 1e-4, 1e-4));
  torch::Tensor kl = 0.5 * (q->loc().pow(2) + q->scale().pow(2) - 1) - q->log_scale();
  EXPECT_TRUE(torch::allclose(site.kl[0], kl, 1e-5, 1e-5));
}

TEST(Vae, MaskedFeaturesDoNotEnterTheLikelihood) {
  torch::manual_seed(2);
  model::Vae vae(small("gaussian"));
  torch::Tensor x = torch::randn({4, 12});
  torch::Tensor mask = torch::ones({4, 12});
  mask.index_put_({torch::indexing::Slice(), 5}, 0);
  torch::Tensor garbage = x.clone();
  garbage.index_put_({torch::indexing::Slice(), 5}, 1e6);
  torch::manual_seed(3);
  torch::Tensor a = vae->forward(data::Batch{x, mask}, 1).log_likelihood();
  torch::manual_seed(3);
  torch::Tensor b = vae->forward(data::Batch{garbage, mask}, 1).log_likelihood();
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(Vae, ConvNetworksHandleAnyImageShape) {
  for (ImageShape img : {ImageShape{1, 28, 28}, ImageShape{3, 13, 17}}) {
    model::VaeOptions o;
    o.features = img.features();
    o.image = img;
    o.latent_dim = 4;
    o.encoder = o.decoder = "conv";
    o.channels = {8, 16};
    o.likelihood = "continuous_bernoulli";
    model::Vae vae(o);
    model::Trace t = vae->forward(data::Batch{torch::rand({2, img.features()})}, 3);
    EXPECT_EQ(t.log_likelihood().sizes(), (std::vector<int64_t>{3, 2})) << img.str();
    EXPECT_EQ(vae->likelihood(vae->sample_prior(5))->mean().sizes(), (std::vector<int64_t>{5, img.features()}));
  }
}

TEST(Vae, SmallDecoderInitScalesTheOutputLayer) {
  auto output_norm = [](double scale) {
    torch::manual_seed(4);
    model::VaeOptions o = small();
    o.decoder_init_scale = scale;
    model::Vae vae(o);
    for (const auto& p : vae->named_parameters())
      if (p.key() == "decoder.layer2.weight") return p.value().norm().item<double>();
    return -1.0;
  };
  EXPECT_NEAR(output_norm(0.01), 0.01 * output_norm(1.0), 1e-6);
}

TEST(Vae, DiracPriorIsRefusedWithTheFix) {
  model::VaeOptions o = small();
  o.prior = "dirac";
  try {
    model::Vae vae(o);
    FAIL() << "a Dirac prior must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("support mismatch"));
    EXPECT_THAT(e.what(), HasSubstr("prior_scale"));
  }
  o.prior = "normal";
  o.prior_scale = 0.01;
  model::Vae narrow(o);
  EXPECT_NEAR(narrow->prior().scale()[0].item<double>(), 0.01, 1e-9);
}

TEST(Vae, NarrowingTheGaussianPriorTowardsDiracGrowsTheKlWithoutBound) {
  // Same encoder (same seed), prior N(0, s^2): KL(q || p) = sum log(s/sigma) + (sigma^2 + mu^2)/(2 s^2) - 1/2
  // grows as s -> 0 (the Dirac limit), like 1/s^2 once s is below the encoder's scales.
  data::Batch batch{torch::rand({8, 12})};
  std::vector<double> kls;
  for (double s : {1.0, 0.3, 0.1, 0.03, 0.01}) {
    model::VaeOptions o = small();
    o.prior_scale = s;
    torch::manual_seed(6);
    model::Vae vae(o);
    const model::Trace t = vae->forward(batch, 1);
    ASSERT_TRUE(t.kl_per_dim().defined()) << "a Gaussian prior has the analytic KL";
    kls.push_back(t.kl(/*analytic=*/true).mean().item<double>());
  }
  for (size_t i = 1; i < kls.size(); ++i) EXPECT_GT(kls[i], kls[i - 1]) << "scale step " << i;
  EXPECT_GT(kls.back(), 50 * kls[2]) << "at s = 0.01 the KL is ~100x that at s = 0.1 (1/s^2 regime)";
}

TEST(Vae, ForwardWithTheEncodersPosteriorIsForward) {
  torch::manual_seed(4);
  model::Vae vae(small());
  data::Batch batch{torch::bernoulli(torch::full({4, 12}, 0.4))};
  torch::manual_seed(5);
  model::Trace a = vae->forward(batch, 3);
  torch::manual_seed(5);
  model::Trace b = vae->forward_with(batch, vae->posterior(batch), 3);
  EXPECT_TRUE(torch::equal(a.log_weights(), b.log_weights()));
  // An external q is used as given: its particles are its own.
  auto external = std::make_shared<dist::Normal>(torch::full({4, 3}, 7.0), torch::full({4, 3}, -20.0));
  model::Trace t = vae->forward_with(batch, external, 2);
  ASSERT_EQ(t.latents().size(), 1u);
  EXPECT_TRUE(torch::allclose(t.latents()[0]->value, torch::full({2, 4, 3}, 7.0), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(t.latents()[0]->kl[0], 0.5 * (49.0 + std::exp(-40.0) - 1) + torch::full({4, 3}, 20.0), 1e-5, 1e-4));
  try {
    vae->forward_with(batch, std::make_shared<dist::Normal>(torch::zeros({4, 2}), torch::zeros({4, 2})), 1);
    FAIL() << "a q of the wrong shape must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("external posterior must be [B, 3]"));
  }
}

TEST(Vae, ConvOnTablesIsAClearError) {
  Config c;
  c.set("model.encoder=conv");
  EXPECT_THROW(model::make_model(c, 13, ImageShape{1, 0, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace elbo
