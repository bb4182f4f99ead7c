// Hierarchical VAE: every log-density term against its formula on a hand-sized
// model, the wiring of mean-field and structured q, the analytic KL as an
// unbiased estimate, forward_with, ancestral sampling, per-layer diagnostics,
// and a short training run.
#include "elbo/core/json.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/summary.h"
#include "elbo/model/factory.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/objective/factory.h"
#include "elbo/train/trainer.h"
#include "support/installed_data.h"
#include "support/throws.h"

#include <torch/autograd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

namespace elbo {
namespace {

using torch::Tensor;
using torch::indexing::Slice;

const double kLog2Pi = std::log(2 * M_PI);

/// features 3, z1 of 2 and z2 of 1 dimensions, no hidden layers (each network is one affine map), float64.
model::HierarchicalVae tiny(const std::string& inference, std::vector<int64_t> hidden = {}) {
  model::HierarchicalVaeOptions o;
  o.features = 3;
  o.latent_dims = {2, 1};
  o.inference = inference;
  o.hidden = std::move(hidden);
  model::HierarchicalVae m(o);
  m->to(torch::kDouble);
  return m;
}

Tensor param(model::HierarchicalVae& m, const std::string& name) { return m->named_parameters()[name].detach(); }

/// W v + b for the single linear layer of the named network.
Tensor affine(model::HierarchicalVae& m, const std::string& net, const Tensor& v) {
  return torch::matmul(v, param(m, net + ".layer0.weight").t()) + param(m, net + ".layer0.bias");
}

/// log N(z; m, diag exp(log_s)^2) summed over the last axis.
Tensor log_normal(const Tensor& z, const Tensor& m, const Tensor& log_s) {
  return (-0.5 * ((z - m) / log_s.exp()).pow(2) - log_s - 0.5 * kLog2Pi).sum(-1);
}

/// KL(N(mq, sq^2) || N(mp, sp^2)) per dimension.
Tensor kl_normal(const Tensor& mq, const Tensor& log_sq, const Tensor& mp, const Tensor& log_sp) {
  return log_sp - log_sq + ((2 * log_sq).exp() + (mq - mp).pow(2)) / (2 * (2 * log_sp).exp()) - 0.5;
}

bool close(const Tensor& a, const Tensor& b) { return a.sizes() == b.sizes() && torch::allclose(a, b, 1e-10, 1e-10); }

data::Batch binary_batch() { return data::Batch{torch::tensor({{1.0, 0.0, 1.0}, {0.0, 0.0, 1.0}}, torch::kDouble)}; }

TEST(HierarchicalVae, TermsMatchHandComputedDensities) {
  for (const std::string inference : {"mean_field", "structured"}) {
    SCOPED_TRACE(inference);
    torch::manual_seed(11);
    model::HierarchicalVae m = tiny(inference);
    torch::NoGradGuard no_grad;
    const data::Batch batch = binary_batch();
    model::Trace t = m->forward(batch, 2);
    const std::vector<const model::Site*> latents = t.latents();
    ASSERT_EQ(latents.size(), 2u);
    EXPECT_EQ(latents[0]->name, "z1");
    EXPECT_EQ(latents[1]->name, "z2");
    const model::Site &g1 = *latents[0], &g2 = *latents[1];
    const Tensor z1 = g1.value, z2 = g2.value;  // [2, 2, 2], [2, 2, 1]
    ASSERT_EQ(z1.sizes(), (std::vector<int64_t>{2, 2, 2}));
    ASSERT_EQ(z2.sizes(), (std::vector<int64_t>{2, 2, 1}));

    // q: mean-field reads x for both layers (encoder output [mu1, mu2, log s1, log s2]);
    // structured reads x for z1 and z1 for z2.
    // Log-scales as dist::posterior_from_raw makes them: log(sigma_min + e^r).
    const auto floored = [](const Tensor& r) { return torch::logaddexp(r, torch::full_like(r, std::log(dist::kMinPosteriorScale))); };
    Tensor enc = affine(m, "encoder", batch.x), mq1, lq1, mq2, lq2;
    if (inference == "mean_field") {
      mq1 = enc.index({Slice(), Slice(0, 2)}), mq2 = enc.index({Slice(), Slice(2, 3)});
      lq1 = enc.index({Slice(), Slice(3, 5)}), lq2 = enc.index({Slice(), Slice(5, 6)});
    } else {
      mq1 = enc.index({Slice(), Slice(0, 2)}), lq1 = enc.index({Slice(), Slice(2, 4)});
      Tensor up = affine(m, "up1", z1);  // [K, B, 2]
      mq2 = up.index({"...", Slice(0, 1)}), lq2 = up.index({"...", Slice(1, 2)});
    }
    lq1 = floored(lq1), lq2 = floored(lq2);
    EXPECT_TRUE(close(g1.log_q, log_normal(z1, mq1, lq1)));
    EXPECT_TRUE(close(g2.log_q, log_normal(z2, mq2, lq2)));

    // p: log p(z2) = log N(z2; 0, 1), log p(z1|z2) from the "down1" map, log p(x|z1) Bernoulli.
    Tensor down = affine(m, "down1", z2);  // [K, B, 4]
    Tensor mp1 = down.index({"...", Slice(0, 2)}), lp1 = floored(down.index({"...", Slice(2, 4)}));
    EXPECT_TRUE(close(g2.log_p, (-0.5 * z2.pow(2) - 0.5 * kLog2Pi).sum(-1)));
    EXPECT_TRUE(close(g1.log_p, log_normal(z1, mp1, lp1)));
    Tensor a = affine(m, "decoder", z1);
    Tensor log_px = (batch.x * torch::log_sigmoid(a) + (1 - batch.x) * torch::log_sigmoid(-a)).sum(-1);
    EXPECT_TRUE(close(t.log_likelihood(), log_px));

    // KL: the top layer against N(0, 1) always; z1 against p(z1|z2) only where q(z1|x) ignores z2 (mean field).
    Tensor kl2 = 0.5 * (mq2.pow(2) + (2 * lq2).exp() - 1) - lq2;
    EXPECT_TRUE(close(g2.kl, inference == "mean_field" ? kl2.unsqueeze(0) : kl2));
    if (inference == "mean_field") {
      EXPECT_TRUE(close(g1.kl, kl_normal(mq1, lq1, mp1, lp1)));
      EXPECT_TRUE(close(g2.q_mean, mq2));
    } else {
      EXPECT_FALSE(g1.kl.defined()) << "KL(q(z1|x) || p(z1|z2)) at z2 ~ q(z2|z1) is biased";
      EXPECT_TRUE(close(g2.q_mean, mq2.mean(0)));  // E_q[z2|x] = E[mu2(z1)], over the particles
    }
    EXPECT_TRUE(close(g1.q_mean, mq1));

    // The code's posterior: the concatenation; structured conditions z2 on the mean of z1.
    const auto q = std::dynamic_pointer_cast<dist::Normal>(m->posterior(batch));
    ASSERT_TRUE(q) << "the code's posterior is a diagonal Normal";
    Tensor up_mean = inference == "structured" ? affine(m, "up1", mq1) : Tensor();
    EXPECT_TRUE(close(q->loc(), torch::cat({mq1, inference == "structured" ? up_mean.index({Slice(), Slice(0, 1)}) : mq2}, 1)));
    EXPECT_TRUE(close(q->log_scale(), torch::cat({lq1, inference == "structured" ? floored(up_mean.index({Slice(), Slice(1, 2)})) : lq2}, 1)));
  }
}

TEST(HierarchicalVae, StructuredQOfZ2ReadsZ1AndMeanFieldDoesNot) {
  for (const std::string inference : {"mean_field", "structured"}) {
    torch::manual_seed(12);
    model::HierarchicalVae m = tiny(inference, {8});
    model::Trace t = m->forward(binary_batch(), 3);
    const std::vector<const model::Site*> latents = t.latents();
    ASSERT_EQ(latents.size(), 2u);
    auto grads = torch::autograd::grad({latents[1]->value.sum()}, {latents[0]->value}, {}, /*retain_graph=*/true,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    if (inference == "structured") {
      ASSERT_TRUE(grads[0].defined());
      EXPECT_GT(grads[0].abs().sum().item<double>(), 0);
    } else {
      EXPECT_FALSE(grads[0].defined()) << "mean-field z2 must not depend on z1";
    }
  }
}

/// Mean over particles of (MC - analytic) KL of the latent sites that report one, with its standard error; [B] each.
std::pair<Tensor, Tensor> mc_minus_analytic(const model::Trace& t) {
  Tensor diff;
  for (const model::Site* g : t.latents()) {
    if (!g->kl.defined()) continue;
    Tensor d = (g->log_q - g->log_p) - g->kl.sum(-1);  // [K, B]
    diff = diff.defined() ? diff + d : d;
  }
  const double k = static_cast<double>(diff.size(0));
  return {diff.mean(0), diff.std(0) / std::sqrt(k)};
}

TEST(HierarchicalVae, AnalyticKlIsAnUnbiasedEstimateOfTheMonteCarloKl) {
  for (const std::string inference : {"mean_field", "structured"}) {
    SCOPED_TRACE(inference);
    torch::manual_seed(13);
    model::HierarchicalVae m = tiny(inference, {8});
    torch::NoGradGuard no_grad;
    const data::Batch batch = binary_batch();
    // forward: every layer (mean field) or the top one (structured); forward_with: every layer.
    for (const model::Trace& t : {m->forward(batch, 40000), m->forward_with(batch, m->posterior(batch), 40000)}) {
      auto [mean, se] = mc_minus_analytic(t);
      EXPECT_TRUE((mean.abs() < 5 * se + 1e-9).all().item<bool>()) << mean << se;
    }
  }
  // The analytic ELBO therefore equals the Monte Carlo ELBO in expectation (mean field: all groups).
  torch::manual_seed(14);
  model::HierarchicalVae m = tiny("mean_field", {8});
  torch::NoGradGuard no_grad;
  model::Trace t = m->forward(binary_batch(), 40000);
  ASSERT_TRUE(t.kl_per_dim().defined()) << "mean field: every layer has its analytic KL";
  Tensor d = t.kl(/*analytic=*/false) - t.kl(/*analytic=*/true);
  EXPECT_TRUE((d.mean(0).abs() < 5 * d.std(0) / 200.0 + 1e-9).all().item<bool>());
}

TEST(HierarchicalVae, StructuredZ1HasNoAnalyticKlBecauseItWouldBeBiased) {
  // Structured q with hand-set weights: q(z1|x) = N(0, I), q(z2|z1) = N(z1a + z1b, 0.1^2),
  // p(z1|z2) = N(z2 / 2, 0.8^2 I). The layer's KL term E_q[log q(z1|x) - log p(z1|z2)] sees
  // z1 - z2/2 = (z1a - z1b)/2 - 0.05 eps, variance 0.5025 per dimension:
  //   2 (log 0.8 + 0.5025 / (2 0.64) - 1/2);
  // KL(q(z1|x) || p(z1|z2)) at the sampled z2 ~ N(0, 2.01) treats z1 as independent of z2:
  //   2 (log 0.8 + (1 + 2.01 / 4) / (2 0.64) - 1/2), 1.56 nats more.
  model::HierarchicalVae m = tiny("structured");
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.zero_();
    auto set = [&](const std::string& name, const Tensor& v) { m->named_parameters()[name].copy_(v); };
    set("up1.layer0.weight", torch::tensor({{1.0, 1.0}, {0.0, 0.0}}, torch::kDouble));
    set("up1.layer0.bias", torch::tensor({0.0, std::log(0.1)}, torch::kDouble));
    set("down1.layer0.weight", torch::tensor({{0.5}, {0.5}, {0.0}, {0.0}}, torch::kDouble));
    set("down1.layer0.bias", torch::tensor({0.0, 0.0, std::log(0.8), std::log(0.8)}, torch::kDouble));
  }
  torch::NoGradGuard no_grad;
  torch::manual_seed(19);
  const int64_t k = 40000;
  model::Trace t = m->forward(binary_batch(), k);
  const std::vector<const model::Site*> latents = t.latents();
  ASSERT_EQ(latents.size(), 2u);
  const Tensor z1 = latents[0]->value, z2 = latents[1]->value;
  Tensor mc = latents[0]->log_q - latents[0]->log_p;  // [K, B]
  Tensor at_sampled = kl_normal(torch::zeros_like(z1), torch::zeros_like(z1), 0.5 * z2.expand_as(z1),
                                torch::full_like(z1, std::log(0.8))).sum(-1);
  const double exact = 2 * (std::log(0.8) + 0.5025 / 1.28 - 0.5);
  const double biased = 2 * (std::log(0.8) + (1 + 2.01 / 4) / 1.28 - 0.5);
  // Means over K x B = 2K independent draws (the encoder ignores x here), within 5 standard errors.
  EXPECT_NEAR(mc.mean().item<double>(), exact, 5 * mc.std().item<double>() / std::sqrt(2.0 * k));
  EXPECT_NEAR(at_sampled.mean().item<double>(), biased, 5 * at_sampled.std().item<double>() / std::sqrt(2.0 * k));
  EXPECT_FALSE(latents[0]->kl.defined());
  EXPECT_TRUE(latents[1]->kl.defined()) << "the top layer's KL against N(0, I) is exact given z1";
}

TEST(HierarchicalVae, ForwardWithAnExternalPosterior) {
  torch::manual_seed(15);
  model::HierarchicalVae mf = tiny("mean_field", {8});
  const data::Batch batch = binary_batch();
  torch::manual_seed(16);
  Tensor a = mf->forward(batch, 3).log_weights();
  torch::manual_seed(16);
  Tensor b = mf->forward_with(batch, mf->posterior(batch), 3).log_weights();
  EXPECT_TRUE(torch::equal(a, b)) << "mean field: forward is forward_with(posterior)";

  model::HierarchicalVae st = tiny("structured", {8});
  model::Trace t = st->forward_with(batch, st->posterior(batch), 5);
  EXPECT_EQ(t.log_likelihood().sizes(), (std::vector<int64_t>{5, 2}));
  ASSERT_EQ(t.latents().size(), 2u);
  EXPECT_EQ(t.latents()[0]->value.sizes(), (std::vector<int64_t>{5, 2, 2}));
  EXPECT_EQ(t.latents()[1]->value.sizes(), (std::vector<int64_t>{5, 2, 1}));
  EXPECT_TRUE(t.kl_per_dim().defined()) << "an external q is mean-field: every layer has its KL";
  EXPECT_EQ(t.log_weights().sizes(), (std::vector<int64_t>{5, 2}));
  // The particles are the external q's own: a point mass at c gives z = c, split by layer.
  auto point = std::make_shared<dist::Normal>(torch::tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, torch::kDouble),
                                              torch::full({2, 3}, -30.0, torch::kDouble));
  model::Trace p = st->forward_with(batch, point, 2);
  ASSERT_EQ(p.latents().size(), 2u);
  EXPECT_TRUE(torch::allclose(p.latents()[0]->value[1], point->loc().index({Slice(), Slice(0, 2)}), 0, 1e-9));
  EXPECT_TRUE(torch::allclose(p.latents()[1]->value[0], point->loc().index({Slice(), Slice(2, 3)}), 0, 1e-9));
  test::expect_invalid_argument(
      [&] { st->forward_with(batch, std::make_shared<dist::Normal>(torch::zeros({2, 2}), torch::zeros({2, 2})), 1); },
      {"external posterior must be [B, 3]"});
}

TEST(HierarchicalVae, SamplePriorIsTheConcatenatedCodeAndTheLikelihoodReadsZ1) {
  torch::manual_seed(17);
  model::HierarchicalVae m = tiny("structured");
  torch::NoGradGuard no_grad;
  Tensor z = m->sample_prior(5);
  EXPECT_EQ(z.sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(m->likelihood(z)->mean().sizes(), (std::vector<int64_t>{5, 3}));
  Tensor other = z.clone();
  other.index_put_({Slice(), 2}, 100.0);
  EXPECT_TRUE(torch::equal(m->likelihood(z)->mean(), m->likelihood(other)->mean())) << "p(x|z) depends on z1 only";
  // Ancestral: z1 | z2 follows p(z1|z2); with many draws its mean given z2 matches mu1(z2).
  Tensor many = m->sample_prior(20000);
  Tensor z2 = many.index({Slice(), Slice(2, 3)});
  Tensor down = affine(m, "down1", z2);
  Tensor eps = (many.index({Slice(), Slice(0, 2)}) - down.index({Slice(), Slice(0, 2)})) / down.index({Slice(), Slice(2, 4)}).exp();
  EXPECT_LT(eps.mean().abs().item<double>(), 5.0 / std::sqrt(40000.0));
  EXPECT_NEAR(eps.pow(2).mean().item<double>(), 1.0, 5 * std::sqrt(2.0 / 40000));
  EXPECT_NEAR(z2.mean().item<double>(), 0.0, 5.0 / std::sqrt(20000.0));
  EXPECT_NEAR(z2.var().item<double>(), 1.0, 5 * std::sqrt(2.0 / 20000));
}

TEST(HierarchicalVae, EvidenceAndSummaryBreakDownByLayer) {
  torch::manual_seed(18);
  model::HierarchicalVae m = tiny("mean_field", {8});
  data::Dataset data;
  data.x = torch::bernoulli(torch::full({40, 3}, 0.4, torch::kDouble));
  data.name = "bits";
  diag::Evidence e = diag::estimate_evidence(*m, data, {.k = 50, .batch_size = 16});
  EXPECT_EQ(e.groups, (std::vector<std::string>{"z1", "z2"}));
  EXPECT_EQ(e.group_dims, (std::vector<int64_t>{2, 1}));
  ASSERT_EQ(e.group_kl.sizes(), (std::vector<int64_t>{40, 2}));
  EXPECT_TRUE(torch::allclose(e.group_kl.sum(1), e.kl, 1e-9, 1e-9));
  diag::Summary s = diag::summarize(e, 0.0);  // threshold 0: every unit whose mean varies is active
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].active_units + s.groups[1].active_units, s.activity.active_units);
  EXPECT_EQ(s.groups[0].active_units, 2);
  EXPECT_NEAR(s.groups[0].kl + s.groups[1].kl, s.kl, 1e-9);
  const Json json = diag::to_json(s);
  EXPECT_EQ(json["groups"][0]["name"], "z1") << json.dump();
  EXPECT_EQ(json["groups"][0]["dims"], 2) << json.dump();
  EXPECT_EQ(json["groups"][1]["active_units"], s.groups[1].active_units) << json.dump();
}

TEST(HierarchicalVae, ConfigErrorsNameTheKey) {
  Config c;
  c.set("model.type=hvae");
  c.set("model.latent_dims=[8]");
  test::expect_invalid_argument([&] { model::make_model(c, 784, ImageShape{1, 28, 28}); },
                                {"model.latent_dims", "at least 2 layers"});
  c.set("model.latent_dims=[8, 4]");
  c.set("model.encoder=conv");
  test::expect_invalid_argument([&] { model::make_model(c, 784, ImageShape{1, 28, 28}); }, {"MLP networks only"});
  c.set("model.encoder=mlp");
  EXPECT_EQ(model::make_model(c, 784, ImageShape{1, 28, 28})->latent_dim(), 12);
}

TEST(HierarchicalVae, TrainingImprovesTheElbo) {
  ELBO_REQUIRE_INSTALLED(test::kFashionMnist + "train-images-idx3-ubyte.gz", "dataset-fashion-mnist");
  struct Recorder : train::Callback {
    std::vector<train::EpochRecord> epochs;
    void on_epoch(const train::EpochRecord& r) override { epochs.push_back(r); }
  };
  for (const std::string inference : {"mean_field", "structured"}) {
    SCOPED_TRACE(inference);
    Config c;
    for (const char* s : {"data.max_train=1200", "data.max_test=100", "data.validation=200", "data.binarize=dynamic",
                          "model.type=hvae", "model.hidden=[64]", "model.latent_dims=[8, 4]", "train.batch_size=50",
                          "train.epochs=3", "objective.kl=mc"})
      c.set(s);
    c.set("model.inference=" + inference);
    data::Splits data = data::load_data(c);
    seed_stream(1, RngStream::init);
    auto model = model::make_model(c, 784, ImageShape{1, 28, 28});
    train::Trainer trainer(model, objective::make_objective(c), train::TrainerOptions::from_config(c));
    Recorder rec;
    trainer.fit(data.train, data.validation, &rec);
    ASSERT_EQ(rec.epochs.size(), 3u);
    EXPECT_GT(rec.epochs[2].valid_elbo, rec.epochs[0].valid_elbo + 5) << "validation ELBO should rise by several nats";
  }
}

}  // namespace
}  // namespace elbo
