// Bayesian layers against closed forms: the local reparameterization's moments and expected loss
// equal weight sampling's with a lower gradient variance; each layer's KL against its closed form
// (Gaussian prior) and against quadrature (mixture prior); a zero-variance layer is the
// deterministic one.
#include "elbo/core/counter_normal.h"
#include "elbo/nn/bayesian_conv2d.h"
#include "elbo/nn/bayesian_gru_cell.h"
#include "elbo/nn/bayesian_linear.h"

#include "support/monte_carlo.h"
#include "support/quadrature.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/modules/rnn.h>

#include <cmath>

namespace elbo::nn {
namespace {

using torch::Tensor;

BayesianLayerOptions options(WeightSampling sampling, double scale = 0.3) {
  BayesianLayerOptions o;
  o.sampling = sampling;
  o.initial_scale = scale;
  return o;
}

/// Two layers with the same posterior, one per sampling mode.
std::pair<BayesianLinear, BayesianLinear> twin_layers(int64_t in, int64_t out) {
  torch::manual_seed(3);
  BayesianLinear local(in, out, options(WeightSampling::local));
  BayesianLinear weights(in, out, options(WeightSampling::weights));
  torch::NoGradGuard no_grad;
  for (const auto& item : local->named_parameters()) {
    item.value().copy_(item.value() + 0.2 * torch::randn_like(item.value()));  // rho varies per weight
    weights->named_parameters()[item.key()].copy_(item.value());
  }
  return {local, weights};
}

TEST(BayesianLinear, LocalReparameterizationHasTheMomentsOfWeightSampling) {
  auto [local, weights] = twin_layers(5, 3);
  local->to(torch::kDouble);
  weights->to(torch::kDouble);
  torch::manual_seed(4);
  const Tensor x = torch::randn({1, 4, 5}, torch::kDouble);
  const int64_t k = 20000;
  const Tensor a = local->forward(x.expand({k, 4, 5})), b = weights->forward(x.expand({k, 4, 5}));  // [K, 4, 3]
  // Closed form: mean x m_W^T + m_c, variance x^2 (s_W^2)^T + s_c^2.
  const auto q = local->weights();
  const Tensor mean = torch::matmul(x[0], q[0].loc.t()) + q[1].loc;
  const Tensor var = torch::matmul(x[0].square(), q[0].scale().square().t()) + q[1].scale().square();
  for (const Tensor& draws : {a, b}) {
    test::expect_within_standard_errors(draws.mean(0), mean, test::standard_error(draws), 4.5);
    const Tensor centred = (draws - mean).square();
    test::expect_within_standard_errors(centred.mean(0), var, test::standard_error(centred), 4.5);
  }
}

TEST(BayesianLinear, LocalReparameterizationHasTheSameExpectedLossAndALowerGradientVariance) {
  auto [local, weights] = twin_layers(20, 4);
  torch::manual_seed(5);
  const Tensor x = torch::randn({1, 256, 20});
  const Tensor target = torch::randn({1, 256, 4});
  // The batch loss: mean squared error of tanh(outputs), a nonlinear loss of each example.
  auto draw = [&](BayesianLinear& layer) {
    layer->zero_grad();
    const Tensor loss = (torch::tanh(layer->forward(x)) - target).square().mean();
    loss.backward();
    auto p = layer->named_parameters();
    return std::vector<Tensor>{loss.detach().reshape({1}), p["weight_loc"].grad().clone(), p["weight_rho"].grad().clone()};
  };
  const int64_t reps = 400;
  std::vector<std::vector<Tensor>> a(3), b(3);
  for (int64_t r = 0; r < reps; ++r) {
    const auto da = draw(local), db = draw(weights);
    for (int i = 0; i < 3; ++i) a[i].push_back(da[i]), b[i].push_back(db[i]);
  }
  auto stacked = [](const std::vector<Tensor>& v) { return torch::stack(v).to(torch::kDouble); };
  // Same expectation: the difference of the two mean losses within 4.5 standard errors of the difference.
  const Tensor la = stacked(a[0]), lb = stacked(b[0]);
  const double se = std::sqrt((test::standard_error(la).square() + test::standard_error(lb).square()).item<double>());
  EXPECT_LT(std::abs((la.mean() - lb.mean()).item<double>()), 4.5 * se);
  // Total gradient variance over the weights' means and scales: lower, by more than the
  // estimates' own error (relative standard error of a variance from 400 draws: about 7%).
  for (int i = 1; i < 3; ++i) {
    const double va = test::sample_variance(stacked(a[i])).sum().item<double>();
    const double vb = test::sample_variance(stacked(b[i])).sum().item<double>();
    EXPECT_LT(va, 0.7 * vb) << (i == 1 ? "weight_loc" : "weight_rho") << " gradient variance: local " << va
                            << ", weights " << vb;
  }
}

TEST(BayesianLinear, WithZeroVarianceItIsTheDeterministicLayer) {
  for (WeightSampling sampling : {WeightSampling::local, WeightSampling::weights}) {
    torch::manual_seed(6);
    BayesianLinear layer(7, 3, options(sampling, 1e-30));
    const auto q = layer->weights();
    const Tensor x = torch::randn({2, 5, 7});
    const Tensor expected = torch::nn::functional::linear(x, q[0].loc, q[1].loc);
    EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-6, 1e-6));
  }
}

TEST(BayesianConv2d, LocalReparameterizationHasTheMomentsOfKernelSampling) {
  torch::manual_seed(14);
  BayesianConv2d local(2, 3, 3, 1, 1, options(WeightSampling::local, 0.2));
  BayesianConv2d kernels(2, 3, 3, 1, 1, options(WeightSampling::weights, 0.2));
  local->to(torch::kDouble);
  kernels->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    for (const auto& item : local->named_parameters()) kernels->named_parameters()[item.key()].copy_(item.value());
  }
  const Tensor x = torch::randn({1, 1, 2, 5, 5}, torch::kDouble);
  const int64_t k = 8000;
  const auto q = local->weights();
  namespace F = torch::nn::functional;
  const auto same = F::Conv2dFuncOptions().padding(1);
  // Closed form per output: mean conv(x, m_W) + m_c, variance conv(x^2, s_W^2) + s_c^2.
  const Tensor mean = F::conv2d(x[0], q[0].loc, F::Conv2dFuncOptions(same).bias(q[1].loc))[0];
  const Tensor var = F::conv2d(x[0].square(), q[0].scale().square(), F::Conv2dFuncOptions(same).bias(q[1].scale().square()))[0];
  for (BayesianConv2d* layer : {&local, &kernels}) {
    const Tensor draws = (*layer)->forward(x.expand({k, 1, 2, 5, 5})).squeeze(1);  // [K, 3, 5, 5]
    test::expect_within_standard_errors(draws.mean(0), mean, test::standard_error(draws), 4.5);
    const Tensor centred = (draws - mean).square();
    test::expect_within_standard_errors(centred.mean(0), var, test::standard_error(centred), 4.5);
  }
  // With (almost) no variance it is the deterministic convolution.
  BayesianConv2d still(2, 3, 3, 2, 0, options(WeightSampling::local, 1e-30));
  const Tensor y = torch::randn({2, 4, 2, 7, 7});
  const auto p = still->weights();
  const Tensor expected = F::conv2d(y.flatten(0, 1), p[0].loc, F::Conv2dFuncOptions().stride(2).bias(p[1].loc));
  EXPECT_TRUE(torch::allclose(still->forward(y).flatten(0, 1), expected, 1e-5, 1e-6));
}

TEST(BayesianGruCell, WithItsMeansItIsTorchsGruCell) {
  torch::manual_seed(7);
  BayesianGruCell cell(3, 5, options(WeightSampling::weights));
  torch::nn::GRUCell reference(torch::nn::GRUCellOptions(3, 5));
  {
    torch::NoGradGuard no_grad;
    const auto q = cell->weights();  // W_i, b_i, W_h, b_h
    reference->weight_ih.copy_(q[0].loc);
    reference->bias_ih.copy_(q[1].loc);
    reference->weight_hh.copy_(q[2].loc);
    reference->bias_hh.copy_(q[3].loc);
  }
  const Tensor x = torch::randn({4, 3}), h = torch::randn({4, 5});
  const Tensor ours = cell->forward(x.unsqueeze(0), h.unsqueeze(0), cell->mean())[0];
  EXPECT_TRUE(torch::allclose(ours, reference->forward(x, h), 1e-5, 1e-6));
  // Each particle's draw is one network for the whole batch: particles differ, rows of one particle use the same weights.
  const auto draw = cell->sample(2);
  const Tensor two = cell->forward(x.unsqueeze(0).expand({2, 4, 3}), h.unsqueeze(0).expand({2, 4, 5}), draw);
  EXPECT_FALSE(torch::allclose(two[0], two[1]));
}

TEST(WeightCost, GaussianPriorKlIsTheClosedFormAndItsMonteCarloEstimate) {
  torch::manual_seed(8);
  BayesianLinear layer(4, 3, options(WeightSampling::local, 0.4));
  layer->to(torch::kDouble);
  WeightPrior prior;
  prior.sigma = 0.7;
  const auto q = layer->weights();
  // Closed form written out per weight: log(sigma / s) + (s^2 + m^2) / (2 sigma^2) - 1/2.
  double expected = 0;
  for (const auto& g : q) {
    const Tensor s = g.scale();
    expected += (std::log(0.7) - s.log() + (s.square() + g.loc.square()) / (2 * 0.49) - 0.5).sum().item<double>();
  }
  std::vector<Tensor> draws;
  for (int i = 0; i < 20000; ++i) {
    const WeightCost c = weight_cost(q, prior);
    if (i == 0) EXPECT_NEAR(c.kl.item<double>(), expected, 1e-9);
    draws.push_back((c.log_q - c.log_p).detach());
  }
  const Tensor mc = torch::cat(draws);
  test::expect_within_standard_errors(mc.mean(), torch::tensor(expected, torch::kDouble), test::standard_error(mc), 4.5);
}

TEST(WeightCost, MixturePriorKlMatchesQuadrature) {
  WeightPrior prior;
  prior.kind = WeightPrior::Kind::mixture;
  prior.pi = 0.25, prior.sigma1 = 1.0, prior.sigma2 = 0.05;
  const std::vector<double> locs{0.0, 0.3, -1.2}, scales{0.02, 0.1, 0.5};
  GaussianWeights q{torch::tensor(locs, torch::kDouble),
                    torch::tensor(scales, torch::kDouble).expm1().log()};  // softplus(rho) = scale
  // KL(N(m, s^2) || mixture) = integral of q (log q - log p), per weight, by the trapezoid rule.
  double expected = 0;
  for (size_t i = 0; i < locs.size(); ++i) {
    const double m = locs[i], s = scales[i];
    expected += test::trapezoid(
        [&](double w) {
          const double log_q = -0.5 * std::pow((w - m) / s, 2) - std::log(s) - 0.5 * std::log(2 * M_PI);
          const double log_p = prior.log_prob(torch::tensor(w, torch::kDouble)).item<double>();
          return std::exp(log_q) * (log_q - log_p);
        },
        m - 12 * s, m + 12 * s, 20000);
  }
  std::vector<Tensor> draws;
  for (int i = 0; i < 40000; ++i) {
    const WeightCost c = weight_cost({q}, prior);
    EXPECT_FALSE(c.kl.defined());
    draws.push_back(c.log_q - c.log_p);
  }
  const Tensor mc = torch::cat(draws);
  test::expect_within_standard_errors(mc.mean(), torch::tensor(expected, torch::kDouble), test::standard_error(mc), 4.5);
}

TEST(WeightCost, GradientsOfTheDensitiesAtOneDrawAreTheFiniteDifferences) {
  // With the noise fixed by the seed, log q and log p at the draw are smooth functions of loc and rho.
  for (auto kind : {WeightPrior::Kind::gaussian, WeightPrior::Kind::mixture}) {
    WeightPrior prior;
    prior.kind = kind;
    prior.sigma = 0.8, prior.sigma2 = 0.1;
    const Tensor loc = torch::tensor({0.3, -0.05, 1.1}, torch::kDouble).requires_grad_();
    const Tensor rho = torch::tensor({-1.0, -3.0, 0.5}, torch::kDouble).requires_grad_();
    auto densities = [&](const Tensor& l, const Tensor& r) {
      torch::manual_seed(11);
      const WeightCost c = weight_cost({{l, r}}, prior);
      return std::make_pair(c.log_q, c.log_p);
    };
    const auto [log_q, log_p] = densities(loc, rho);
    const auto gq = torch::autograd::grad({log_q}, {loc, rho}, {}, true);
    const auto gp = torch::autograd::grad({log_p}, {loc, rho});
    torch::NoGradGuard no_grad;
    const double h = 1e-6;
    for (int64_t i = 0; i < 3; ++i)
      for (int which = 0; which < 2; ++which) {
        Tensor up_l = loc.clone(), up_r = rho.clone(), down_l = loc.clone(), down_r = rho.clone();
        (which == 0 ? up_l : up_r)[i] += h;
        (which == 0 ? down_l : down_r)[i] -= h;
        const auto up = densities(up_l, up_r), down = densities(down_l, down_r);
        const double fd_q = (up.first - down.first).item<double>() / (2 * h);
        const double fd_p = (up.second - down.second).item<double>() / (2 * h);
        EXPECT_NEAR(gq[which][i].item<double>(), fd_q, 1e-6) << "log q, parameter " << which << ", element " << i;
        EXPECT_NEAR(gp[which][i].item<double>(), fd_p, 1e-6) << "log p, parameter " << which << ", element " << i;
      }
  }
}

TEST(DrawWeights, GradientsThroughTheDrawsAndTheirDensitiesAreTheFiniteDifferences) {
  // L = sum(c * w) + 0.3 sum_k log q(w_k) + 0.7 sum_k log p(w_k) over k = 2 draws, the noise fixed by the seed.
  WeightPrior prior;
  prior.kind = WeightPrior::Kind::mixture;
  prior.sigma2 = 0.1;
  const Tensor c = torch::tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.7}}, torch::kDouble);
  auto loss = [&](const Tensor& l, const Tensor& r) {
    torch::manual_seed(21);
    const WeightDraw d = draw_weights({l, r}, prior, 2);
    return (c * d.value).sum() + 0.3 * d.log_q.sum() + 0.7 * d.log_p.sum();
  };
  const Tensor loc = torch::tensor({0.3, -0.05, 1.1}, torch::kDouble).requires_grad_();
  const Tensor rho = torch::tensor({-1.0, -3.0, 0.5}, torch::kDouble).requires_grad_();
  const auto grad = torch::autograd::grad({loss(loc, rho)}, {loc, rho});
  torch::NoGradGuard no_grad;
  const double h = 1e-6;
  for (int which = 0; which < 2; ++which)
    for (int64_t i = 0; i < 3; ++i) {
      Tensor up_l = loc.clone(), up_r = rho.clone(), down_l = loc.clone(), down_r = rho.clone();
      (which == 0 ? up_l : up_r)[i] += h;
      (which == 0 ? down_l : down_r)[i] -= h;
      const double fd = (loss(up_l, up_r) - loss(down_l, down_r)).item<double>() / (2 * h);
      EXPECT_NEAR(grad[which][i].item<double>(), fd, 1e-6 * (1 + std::abs(fd))) << (which ? "rho " : "loc ") << i;
    }
}

TEST(WeightCost, FloatKernelMatchesTheDensitiesInDouble) {
  // The float32 pass (core/fast_math.h) against the tensor expressions in float64 at the same draw.
  for (auto kind : {WeightPrior::Kind::gaussian, WeightPrior::Kind::mixture}) {
    WeightPrior prior;
    prior.kind = kind;
    torch::manual_seed(12);
    const Tensor loc = (0.3 * torch::randn({1001})).requires_grad_();
    const Tensor rho = torch::linspace(-12, 4, 1001).requires_grad_();
    torch::manual_seed(13);
    const WeightCost c = weight_cost({{loc, rho}}, prior);
    torch::manual_seed(13);
    const Tensor eps = standard_normal(NormalKey::draw().for_draw(0), {1001}, torch::kDouble);  // the draw weight_cost made
    const Tensor l = loc.detach().to(torch::kDouble).requires_grad_(), r = rho.detach().to(torch::kDouble).requires_grad_();
    const Tensor s = torch::softplus(r);
    const Tensor log_q = (-0.5 * eps.square() - s.log()).sum() - 0.91893853320467274178 * 1001;
    const Tensor log_p = prior.log_prob(l + s * eps).sum();
    EXPECT_NEAR(c.log_q.item<double>(), log_q.item<double>(), 1e-5 * std::abs(log_q.item<double>()));
    EXPECT_NEAR(c.log_p.item<double>(), log_p.item<double>(), 1e-5 * std::abs(log_p.item<double>()));
    const auto expected = torch::autograd::grad({log_q - log_p}, {l, r});
    const auto got = torch::autograd::grad({c.log_q - c.log_p}, {loc, rho});
    for (int i = 0; i < 2; ++i) {
      const Tensor excess = (got[i].to(torch::kDouble) - expected[i]).abs() - 1e-4 * (1 + expected[i].abs());
      const int64_t worst = excess.argmax().item<int64_t>();
      EXPECT_LE(excess[worst].item<double>(), 0.0) << (i ? "rho" : "loc") << " gradient of element " << worst << ": "
                                                   << got[i][worst].item<double>() << " vs "
                                                   << expected[i][worst].item<double>() << " (rho " << r[worst].item<double>() << ")";
    }
  }
}

}  // namespace
}  // namespace elbo::nn
