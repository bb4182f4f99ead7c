// Inverse design: the property head against a known function, the design against the closed-form
// maximizers of a linear head, and the DNA oracles on hand examples.
#include "elbo/diag/inverse_design.h"
#include "elbo/diag/property_head.h"
#include "elbo/diag/sequence_property.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo {
namespace {

using torch::Tensor;

/// A head with a linear f(z) = mean + sd * (w0.z + b0), i.e. w = sd w0 and b = sd b0 + mean in the
/// property's units, and noise sd s.
diag::PropertyHead linear_head(const std::vector<float>& w0, double b0, double mean, double sd, double s) {
  diag::PropertyHead h;
  h.net = nn::Mlp(nn::MlpOptions(static_cast<int64_t>(w0.size()), 1));
  torch::NoGradGuard no_grad;
  h.net->layers()[0]->weight.copy_(torch::tensor(w0).unsqueeze(0));
  h.net->layers()[0]->bias.fill_(b0);
  h.mean = mean;
  h.sd = sd;
  h.noise_sd = s;
  return h;
}

Tensor windows(const std::vector<std::string>& seqs) {
  std::vector<Tensor> rows;
  for (const auto& s : seqs) {
    std::vector<float> v;
    for (char ch : s) v.push_back(static_cast<float>(std::string("ACGT").find(ch)));
    rows.push_back(torch::tensor(v));
  }
  return torch::stack(rows);
}

// c = 2 z1 - z2 + e, e ~ N(0, 0.5^2), z ~ N(0, I_3): var(c) = 5.25, R^2 = 5 / 5.25 = 0.952.
// With 400 held-out pairs the noise sd's standard error is 0.5 / sqrt(800) = 0.018 and R^2's about
// 0.004 (plus the fit's small excess error); the tolerances are about 4 standard errors.
TEST(PropertyHead, RecoversALinearFunctionItsNoiseAndR2) {
  torch::manual_seed(3);
  const Tensor z = torch::randn({4000, 3});
  const Tensor c = 2 * z.select(1, 0) - z.select(1, 1) + 0.5 * torch::randn({4000}) + 10.0;
  const diag::PropertyHead h = diag::fit_property_head(z, c);
  EXPECT_EQ(h.held_out, 400);
  EXPECT_EQ(h.fitted, 3600);
  EXPECT_NEAR(h.noise_sd, 0.5, 0.075);
  EXPECT_NEAR(h.r2, 5.0 / 5.25, 0.02);
  torch::NoGradGuard no_grad;
  const Tensor probe = torch::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f}).reshape({4, 3});
  const Tensor f = h.predict(probe).to(torch::kDouble);
  EXPECT_NEAR(f[0].item<double>(), 10.0, 0.1);
  EXPECT_NEAR(f[1].item<double>() - f[0].item<double>(), 2.0, 0.1);
  EXPECT_NEAR(f[2].item<double>() - f[0].item<double>(), -1.0, 0.1);
  EXPECT_NEAR(f[3].item<double>() - f[0].item<double>(), 0.0, 0.1);
  // log N(c; f, s^2) by hand.
  const double lp = h.log_prob(probe.slice(0, 0, 1), 11.0).item<double>();
  const double r = (11.0 - f[0].item<double>()) / h.noise_sd;
  EXPECT_NEAR(lp, -0.5 * r * r - std::log(h.noise_sd) - 0.5 * std::log(2 * M_PI), 1e-5);
}

TEST(PropertyHead, RefusesBadInput) {
  test::expect_invalid_argument([] { diag::fit_property_head(torch::zeros({5, 2}), torch::zeros({5})); },
                                {"at least 10 pairs", "5"});
  test::expect_invalid_argument([] { diag::fit_property_head(torch::zeros({20, 2}), torch::zeros({19})); },
                                {"[N, D]", "[20, 2]", "[19]"});
  Tensor c = torch::zeros({20});
  c[3] = NAN;
  test::expect_invalid_argument([&] { diag::fit_property_head(torch::zeros({20, 2}), c); }, {"non-finite"});
}

// J(z) = -(t - w.z - b)^2 / (2 s^2) - |z|^2 / (2 σ^2) + const. Its gradient (t - w.z - b) w / s^2 - z / σ^2
// vanishes on z = α w with α (|w|^2 / s^2 + 1 / σ^2) = (t - b) / s^2, i.e.
// z* = w (t - b) σ^2 / (s^2 + σ^2 |w|^2): at σ = 1, w (t - b) / (s^2 + |w|^2) (ridge regression's
// solution). J is strictly concave, so this is the maximizer every start must reach.
TEST(InverseDesign, TargetConvergesToTheClosedFormMaximizer) {
  const diag::PropertyHead h = linear_head({1.5f, -0.5f, 0.8f}, 0.3, 0.2, 2.0, 0.7);
  const Tensor w = torch::tensor({1.5, -0.5, 0.8}, torch::kDouble) * 2.0;
  const double b = 2.0 * 0.3 + 0.2, s = 0.7, t = 2.5;
  for (double prior_sd : {1.0, 0.5}) {
    diag::DesignOptions o;
    o.target = t;
    o.steps = 2000;
    o.prior_sd = prior_sd;
    torch::manual_seed(5);
    const Tensor start = torch::randn({8, 3}) * 2;
    const diag::Design d = diag::design_codes(h, start, o);
    const double v = prior_sd * prior_sd;
    const Tensor expected = w * (t - b) * v / (s * s + v * w.square().sum());
    EXPECT_LT((d.codes.to(torch::kDouble) - expected).abs().max().item<double>(), 2e-3) << "prior sd " << prior_sd;
    ASSERT_EQ(d.objective.sizes(), (std::vector<int64_t>{2001, 8}));
    ASSERT_EQ(d.predicted.sizes(), (std::vector<int64_t>{2001, 8}));
    EXPECT_TRUE(torch::equal(d.start, start));
    EXPECT_TRUE((d.objective[-1] > d.objective[0]).all().item<bool>());
    // The optimum's own objective: no design ends above it.
    const Tensor best = diag::design_objective(h, expected.to(torch::kFloat).unsqueeze(0), o).to(torch::kDouble);
    EXPECT_LE(d.objective[-1].max().item<double>(), best.item<double>() + 1e-5);
  }
}

// "max": J(z) = (w.z + b) / s - |z|^2 / 2 peaks at z* = w / s; from z = 0 the prediction rises at every step.
TEST(InverseDesign, MaxRaisesThePredictionMonotonically) {
  const diag::PropertyHead h = linear_head({1.0f, 0.5f}, -0.2, 0.0, 1.0, 0.5);
  diag::DesignOptions o;
  o.maximize = true;
  o.steps = 1500;
  o.lr = 0.02;
  const diag::Design d = diag::design_codes(h, torch::zeros({4, 2}), o);
  const Tensor rise = d.predicted.slice(0, 1) - d.predicted.slice(0, 0, -1);
  EXPECT_GE(rise.min().item<double>(), -1e-6);
  EXPECT_GT((d.predicted[-1] - d.predicted[0]).min().item<double>(), 1.0);
  EXPECT_LT((d.codes - torch::tensor({2.0f, 1.0f})).abs().max().item<double>(), 2e-3);
}

// With z_2 held at its start c (free = {1, 0, 1}) the objective over the free dims F is the same ridge
// problem with the target moved by w_2 c: z_F* = w_F (t - b - w_2 c) / (s^2 + |w_F|^2) at prior sd 1.
TEST(InverseDesign, HeldDimensionsStayAtTheStartAndTheFreeOnesReachTheReducedMaximizer) {
  const diag::PropertyHead h = linear_head({1.5f, -0.5f, 0.8f}, 0.3, 0.2, 2.0, 0.7);
  const double w[3] = {3.0, -1.0, 1.6}, b = 0.8, s = 0.7, t = 2.5;
  diag::DesignOptions o;
  o.target = t;
  o.steps = 2000;
  o.free = torch::tensor({1.0f, 0.0f, 1.0f});
  torch::manual_seed(6);
  const Tensor start = torch::randn({6, 3}) * 2;
  const diag::Design d = diag::design_codes(h, start, o);
  EXPECT_TRUE(torch::equal(d.codes.select(1, 1), start.select(1, 1)));
  for (int64_t i = 0; i < 6; ++i) {
    const double c = start[i][1].item<double>(), scale = (t - b - w[1] * c) / (s * s + w[0] * w[0] + w[2] * w[2]);
    EXPECT_NEAR(d.codes[i][0].item<double>(), w[0] * scale, 2e-3) << i;
    EXPECT_NEAR(d.codes[i][2].item<double>(), w[2] * scale, 2e-3) << i;
  }
  o.free = torch::ones({2});
  test::expect_invalid_argument([&] { diag::design_codes(h, start, o); }, {"free must be [3]", "[2]"});
}

TEST(InverseDesign, RefusesMismatchedStartCodes) {
  const diag::PropertyHead h = linear_head({1.0f, 0.5f}, 0.0, 0.0, 1.0, 0.5);
  test::expect_invalid_argument([&] { diag::design_codes(h, torch::zeros({4, 3}), {}); }, {"[n, 2]", "[4, 3]"});
  diag::DesignOptions o;
  o.target = NAN;
  test::expect_invalid_argument([&] { diag::design_codes(h, torch::zeros({4, 2}), o); }, {"target must be finite"});
}

TEST(SequenceProperty, GcAndOverlappingMotifsOnHandExamples) {
  const Tensor x = windows({"GCATAAAA", "ACGTACGA", "GGGGCCCC"});
  Tensor mask = torch::ones({3, 8});
  mask[0][0] = 0;  // the first G of window 1 is unknown: 1 of 7 known bases is G/C
  const Tensor gc = diag::sequence_property("gc", x, mask);
  EXPECT_NEAR(gc[0].item<double>(), 1.0 / 7.0, 1e-12);
  EXPECT_NEAR(gc[1].item<double>(), 4.0 / 8.0, 1e-12);
  EXPECT_NEAR(gc[2].item<double>(), 1.0, 1e-12);
  EXPECT_TRUE(std::isnan(diag::sequence_property("gc", x, torch::zeros({3, 8}))[0].item<double>()));
  const Tensor aaa = diag::sequence_property("motif:AAA", x);
  EXPECT_EQ(aaa[0].item<double>(), 2.0);  // AAAA holds AAA twice
  EXPECT_EQ(aaa[1].item<double>(), 0.0);
  EXPECT_EQ(diag::sequence_property("motif:ACG", x)[1].item<double>(), 2.0);
  EXPECT_EQ(diag::sequence_property("motif:GG", x)[2].item<double>(), 3.0);
  // A masked base breaks an occurrence.
  Tensor m2 = torch::ones({3, 8});
  m2[0][4] = 0;  // breaks the occurrence at 4, not the one at 5
  EXPECT_EQ(diag::sequence_property("motif:AAA", x, m2)[0].item<double>(), 1.0);
  test::expect_invalid_argument([&] { diag::sequence_property("at", x); }, {"unknown property 'at'", "gc", "motif:"});
  test::expect_invalid_argument([&] { diag::sequence_property("motif:ANA", x); }, {"only A, C, G, T", "'N'"});
  test::expect_invalid_argument([&] { diag::sequence_property("motif:ACGTACGTA", x); }, {"longer than the windows"});
}

}  // namespace
}  // namespace elbo
