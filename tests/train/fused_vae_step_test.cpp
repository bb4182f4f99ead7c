#include "elbo/core/fast_math.h"
#include "elbo/core/rng.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/model/vae.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/fused_vae_step.h"

#include "support/autograd_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"  // 8-float vectors by value, inlined
#endif

using namespace elbo;

namespace {

model::Vae two_layer_vae(const std::string& likelihood = "bernoulli", int64_t features = 12,
                         std::vector<int64_t> hidden = {16, 8}, const std::string& scale = "per_feature") {
  model::VaeOptions o;
  o.likelihood_scale = scale;
  o.scale = 0.8;
  o.features = features;
  o.latent_dim = 3;
  o.hidden = std::move(hidden);
  o.prior_scale = 0.7;
  o.likelihood = likelihood;
  torch::manual_seed(3);
  return model::Vae(o);
}

}  // namespace

TEST(FastMath, ExpLog1pSoftplusSigmoidMatchTheCLibrary) {
  double worst_exp = 0, worst_log1p = 0, worst_softplus = 0, worst_sigmoid = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f * static_cast<float>(i) / 200000;
    worst_exp = std::max(worst_exp, std::abs(fast::exp_nonpositive(x) / std::exp(double(x)) - 1));
    const float e = static_cast<float>(i) / 200000;
    if (e > 0) worst_log1p = std::max(worst_log1p, std::abs(fast::log1p_unit(e) / std::log1p(double(e)) - 1));
    const float l = -87.0f + 187.0f * static_cast<float>(i) / 200000;  // softplus(l) a normal float
    const double softplus = l > 0 ? l + std::log1p(std::exp(-double(l))) : std::log1p(std::exp(double(l)));
    worst_softplus = std::max(worst_softplus, std::abs(fast::softplus(l) / softplus - 1));
    worst_sigmoid = std::max(worst_sigmoid, std::abs(fast::sigmoid(l) * (1 + std::exp(-double(l))) - 1));
  }
  EXPECT_LT(fast::exp_nonpositive(-200.0f), 2e-38f);  // clamped at e^-87
  EXPECT_LT(fast::softplus(-200.0f), 2e-38f);
  EXPECT_EQ(fast::sigmoid(200.0f), 1.0f);
  // The 8-float versions are the same code: equal lane by lane.
  const fast::Vec v = {-80.0f, -20.0f, -3.5f, -1.0f, -0.1f, 0.0f, 2.0f, 30.0f};
  const fast::Vec ve = fast::exp_nonpositive(-fast::abs(v)), vs = fast::softplus(v), vg = fast::sigmoid(v);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ve[i], fast::exp_nonpositive(-std::abs(v[i])));
    EXPECT_EQ(vs[i], fast::softplus(v[i]));
    EXPECT_EQ(vg[i], fast::sigmoid(v[i]));
  }
  // float32 epsilon is 1.19e-7: a few ulp at most.
  EXPECT_LT(worst_exp, 5e-7);
  EXPECT_LT(worst_log1p, 5e-7);
  EXPECT_LT(worst_softplus, 5e-7);
  EXPECT_LT(worst_sigmoid, 5e-7);
}

namespace {

/// The fused step's loss terms and gradients against the autograd path (the model's
/// forward, the Elbo objective and backward) with the same noise draw.
template <typename Model>
void expect_autograd_values(Model& model, const torch::Tensor& x, double beta, WorkerThreads* team,
                            bool monte_carlo_kl = false) {
  model::Batch batch;
  batch.x = x;
  seed_stream(1, RngStream::step, 7);
  objective::Value ref = objective::beta_elbo(model->forward(batch, 1), beta, !monte_carlo_kl);
  const std::vector<torch::Tensor> ref_grads = test::reference_gradients(*model, ref.loss);
  seed_stream(1, RngStream::step, 7);
  const torch::Tensor eps = torch::randn({1, x.size(0), model->latent_dim()})[0];
  train::FusedVaeStep fused(*model, team, monte_carlo_kl);
  const objective::Value v = fused(x, eps, beta);
  EXPECT_NEAR(v.loss.item<double>(), ref.loss.item<double>(), 1e-4 * std::abs(ref.loss.item<double>()));
  EXPECT_LT(test::max_relative_error(v.reconstruction, ref.reconstruction), 1e-5);
  // A Monte Carlo KL is a difference of log-densities (the autograd path's with their
  // constants): float rounding of terms of order 10 per row, not of the KL's size.
  if (monte_carlo_kl)
    EXPECT_LT((v.kl - ref.kl).abs().max().item<double>(), 2e-5 * model->latent_dim());
  else
    EXPECT_LT(test::max_relative_error(v.kl, ref.kl), 1e-5);
  EXPECT_LT(test::max_relative_error(v.bound, ref.bound), 1e-5);
  const auto params = model->named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(test::max_relative_error(params[i].value().grad(), ref_grads[i]), 1e-4) << params[i].key() << " beta " << beta;
}

model::HierarchicalVae hierarchical_vae(std::vector<int64_t> latent_dims, const std::string& likelihood = "bernoulli") {
  model::HierarchicalVaeOptions o;
  o.features = 12;
  o.latent_dims = std::move(latent_dims);
  o.hidden = {16};
  o.encoder_hidden = {20, 10};
  o.likelihood = likelihood;
  torch::manual_seed(6);
  return model::HierarchicalVae(o);
}

}  // namespace

TEST(FusedVaeStep, SameLossTermsAndGradientsAsTheAutogradPath) {
  auto vae = two_layer_vae();
  ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << "the fused step cannot run here";
  torch::manual_seed(4);
  const torch::Tensor x = torch::rand({5, 12});
  for (const double beta : {1.0, 0.3}) expect_autograd_values(vae, x, beta, nullptr);
}

TEST(FusedVaeStep, MonteCarloKlGivesTheAutogradPathsLossAndGradients) {
  auto vae = two_layer_vae();
  torch::manual_seed(4);
  const torch::Tensor x = torch::rand({70, 12});
  WorkerThreads threads(2);
  expect_autograd_values(vae, x, 1.0, nullptr, true);
  expect_autograd_values(vae, x, 0.3, &threads, true);
}

TEST(FusedVaeStep, HierarchicalVaeGivesTheAutogradPathsLossAndGradients) {
  // Two and three layers, analytic and Monte Carlo KL, one thread and two row blocks; every
  // network's weights (encoder, decoder, each p(z_l | z_{l+1})) must match.
  torch::manual_seed(12);
  const torch::Tensor x = torch::rand({70, 12});
  WorkerThreads threads(2);
  for (const auto& dims : {std::vector<int64_t>{3, 2}, std::vector<int64_t>{4, 3, 2}})
    for (const bool monte_carlo : {false, true}) {
      auto hvae = hierarchical_vae(dims);
      ASSERT_EQ(train::FusedVaeStep::unsupported(*hvae), "");
      SCOPED_TRACE(std::to_string(dims.size()) + " layers, " + (monte_carlo ? "mc" : "analytic"));
      expect_autograd_values(hvae, x, 1.0, nullptr, monte_carlo);
      expect_autograd_values(hvae, x, 0.5, &threads, monte_carlo);
    }
  auto gaussian = hierarchical_vae({3, 2}, "gaussian");
  expect_autograd_values(gaussian, 1.5 * torch::randn({70, 12}), 1.0, &threads, true);
}

TEST(FusedVaeStep, GaussianAndLaplaceLikelihoodsGiveTheAutogradPathsLossAndGradients) {
  // Every scale mode: learned per feature, one shared, fixed (a buffer: no gradient).
  torch::manual_seed(5);
  const torch::Tensor x = 1.5 * torch::randn({70, 12});  // two row blocks with a team
  WorkerThreads threads(2);
  for (const std::string likelihood : {"gaussian", "laplace"})
    for (const std::string scale : {"per_feature", "shared", "fixed"}) {
      auto vae = two_layer_vae(likelihood, 12, {16, 8}, scale);
      ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << likelihood;
      {
        torch::NoGradGuard no_grad;  // scales apart from each other and from 1
        if (scale == "per_feature") vae->likelihood_head()->log_scale().copy_(torch::linspace(-0.7, 0.9, 12));
      }
      SCOPED_TRACE(likelihood + ", " + scale);
      expect_autograd_values(vae, x, 1.0, nullptr);
      expect_autograd_values(vae, x, 0.5, &threads);
    }
}

TEST(FusedVaeStep, LayersSplitIntoPiecesGiveTheAutogradGradients) {
  // 300 x 320 weights per large layer: more than one piece of the weight pass each.
  auto vae = two_layer_vae("bernoulli", 300, {320});
  ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << "the fused step cannot run here";
  torch::manual_seed(11);
  WorkerThreads threads(2);
  expect_autograd_values(vae, torch::rand({70, 300}), 1.0, &threads);
}

TEST(FusedVaeStep, SplitBetweenThreadsGivesTheSameGradients) {
  auto vae = two_layer_vae();
  ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << "the fused step cannot run here";
  torch::manual_seed(8);
  const torch::Tensor x = torch::rand({101, 12}), eps = torch::randn({101, 3});  // 3 uneven row blocks
  train::FusedVaeStep one(*vae);
  const objective::Value ref = one(x, eps, 0.5);
  std::vector<torch::Tensor> ref_grads;
  for (const auto& p : vae->parameters()) ref_grads.push_back(p.grad().clone());
  WorkerThreads threads(3);
  train::FusedVaeStep split(*vae, &threads);
  const objective::Value v = split(x, eps, 0.5);
  EXPECT_LT(test::max_relative_error(v.reconstruction, ref.reconstruction), 1e-6);
  EXPECT_LT(test::max_relative_error(v.kl, ref.kl), 1e-6);
  // The sums in double over the rows agree with the per-row values (float rows: ~1e-7 each).
  const objective::MetricSums& sums = split.metric_sums();
  const double reconstruction = v.reconstruction.to(torch::kDouble).sum().item<double>();
  const double kl = v.kl.to(torch::kDouble).sum().item<double>();
  EXPECT_NEAR(sums.reconstruction, reconstruction, 1e-6 * std::abs(reconstruction));
  EXPECT_NEAR(sums.kl, kl, 1e-6 * std::abs(kl));
  EXPECT_NEAR(sums.bound, reconstruction - kl, 1e-6 * std::abs(reconstruction - kl));
  const auto params = vae->named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_LT(test::max_relative_error(params[i].value().grad(), ref_grads[i]), 1e-5) << params[i].key();
}

TEST(FusedVaeStep, GradientNormIsTheNormOfTheGradientsItWrote) {
  auto vae = two_layer_vae();
  ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << "the fused step cannot run here";
  torch::manual_seed(9);
  const torch::Tensor x = torch::rand({70, 12}), eps = torch::randn({70, 3});
  WorkerThreads threads(2);
  for (WorkerThreads* team : {static_cast<WorkerThreads*>(nullptr), &threads}) {
    train::FusedVaeStep step(*vae, team);
    step(x, eps, 1.0);
    double sum = 0;
    for (const auto& p : vae->parameters()) sum += p.grad().to(torch::kDouble).square().sum().item<double>();
    ASSERT_GT(sum, 0);
    // Float lanes summed in double: relative error of order 1e-7 per term.
    EXPECT_NEAR(step.gradient_norm(), std::sqrt(sum), 1e-5 * std::sqrt(sum)) << (team ? "team" : "one thread");
  }
}

TEST(FusedVaeStep, AdamInsideTheStepGivesTheParametersOfGradientsThenAdamStep) {
  torch::manual_seed(10);
  const torch::Tensor x = torch::rand({70, 12}), eps = torch::randn({70, 3});
  WorkerThreads threads(2);
  for (const std::string likelihood : {"bernoulli", "gaussian"})
  for (WorkerThreads* team : {static_cast<WorkerThreads*>(nullptr), &threads}) {
    auto separate = two_layer_vae(likelihood), inside = two_layer_vae(likelihood);
    ASSERT_EQ(train::FusedVaeStep::unsupported(*separate), "") << "the fused step cannot run here";
    const auto options = torch::optim::AdamOptions(1e-2).weight_decay(0.01);
    torch::optim::Adam separate_adam(separate->parameters(), options), inside_adam(inside->parameters(), options);
    train::FusedVaeStep separate_step(*separate, team), inside_step(*inside, team);
    // 70 rows make two row blocks with a team, 20 rows one (each thread's weight block then doubles).
    for (const int64_t rows : {70, 70, 20, 70}) {
      const torch::Tensor xs = x.slice(0, 0, rows), es = eps.slice(0, 0, rows);
      const double loss = separate_step(xs, es, 1.0).loss.item<double>();
      train::adam_step(separate_adam, team);
      EXPECT_EQ(inside_step(xs, es, 1.0, &inside_adam).loss.item<double>(), loss);
      ASSERT_TRUE(inside_step.updated());
      EXPECT_NEAR(inside_step.gradient_norm(), separate_step.gradient_norm(), 1e-6 * separate_step.gradient_norm());
    }
    // The same sgemm calls and the same Adam loop: the same floats.
    const auto a = separate->parameters(), b = inside->parameters();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i << (team ? " team" : "");
  }
}

TEST(FusedVaeStep, AdamStaysOutsideWhenAGradientCouldOverflow) {
  auto vae = two_layer_vae();
  ASSERT_EQ(train::FusedVaeStep::unsupported(*vae), "") << "the fused step cannot run here";
  torch::optim::Adam adam(vae->parameters(), torch::optim::AdamOptions(1e-3));
  train::FusedVaeStep step(*vae);
  torch::manual_seed(11);
  torch::Tensor x = torch::rand({8, 12}), eps = torch::randn({8, 3});
  {
    torch::NoGradGuard no_grad;
    vae->parameters()[0].zero_();  // the encoder's first weights: the forward pass ignores the data's scale
  }
  const auto before = vae->parameters()[1].clone();
  // Data of 1e20: the loss is finite (~1e20), but ||G|| ||A|| of the first layer exceeds FLT_MAX / 2.
  const double loss = step(x * 1e20f, eps, 1.0, &adam).loss.item<double>();
  ASSERT_TRUE(std::isfinite(loss));
  EXPECT_FALSE(step.updated());
  EXPECT_TRUE(torch::equal(vae->parameters()[1], before));  // nothing applied; the gradients were written instead
  EXPECT_GT(vae->parameters()[1].grad().abs().max().item<double>(), 0);
  for (const auto& [key, state] : adam.state())
    EXPECT_EQ(static_cast<const torch::optim::AdamParamState&>(*state).step(), 0);  // no step counted
  step(x, eps, 1.0, &adam);
  EXPECT_TRUE(step.updated());
  EXPECT_FALSE(torch::equal(vae->parameters()[1], before));
}

TEST(FusedVaeStep, RefusesModelsItDoesNotImplement) {
  EXPECT_NE(train::FusedVaeStep::unsupported(*two_layer_vae("poisson")), "");
  EXPECT_THROW(train::FusedVaeStep(*two_layer_vae("poisson")), std::exception);
  auto structured = hierarchical_vae({3, 2});
  auto o = structured->options();
  o.inference = "structured";
  EXPECT_NE(train::FusedVaeStep::unsupported(*model::HierarchicalVae(o)), "");
}

TEST(AdamStep, SameParametersAsLibTorchAdam) {
  torch::manual_seed(5);
  const torch::Tensor start = torch::randn({7, 9});
  torch::Tensor a = start.clone().requires_grad_(), b = start.clone().requires_grad_();
  auto options = torch::optim::AdamOptions(1e-2).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1);
  torch::optim::Adam reference({a}, options), fused({b}, options);
  for (int step = 0; step < 20; ++step) {
    const torch::Tensor g = torch::randn({7, 9});
    a.mutable_grad() = g.clone();
    b.mutable_grad() = g.clone();
    reference.step();
    train::adam_step(fused);
  }
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5);
  EXPECT_GT((a - start).abs().max().item<double>(), 0.05);  // the parameters did move
  // The state is LibTorch's own: LibTorch's step continues from where the fused one left off.
  const torch::Tensor g = torch::randn({7, 9});
  a.mutable_grad() = g.clone();
  b.mutable_grad() = g.clone();
  reference.step();
  fused.step();
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5);
}

TEST(AdamStep, ATeamOfThreadsGivesTheSameParametersAsOne) {
  // One parameter large enough to be split between the threads, two small ones taken by turns.
  torch::manual_seed(6);
  std::vector<torch::Tensor> one, team;
  for (const int64_t n : {int64_t{1} << 17, int64_t{33}, int64_t{5}}) {
    const torch::Tensor start = torch::randn({n});
    one.push_back(start.clone().requires_grad_());
    team.push_back(start.clone().requires_grad_());
  }
  torch::optim::Adam single(one, torch::optim::AdamOptions(1e-2)), split(team, torch::optim::AdamOptions(1e-2));
  WorkerThreads threads(3);
  for (int step = 0; step < 5; ++step) {
    for (size_t i = 0; i < one.size(); ++i) {
      const torch::Tensor g = torch::randn_like(one[i]);
      one[i].mutable_grad() = g.clone();
      team[i].mutable_grad() = g.clone();
    }
    train::adam_step(single);
    train::adam_step(split, &threads);
  }
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], team[i])) << "parameter " << i;  // element-wise: exact
}
