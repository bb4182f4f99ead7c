// Bayesian networks: the trace of a BNN (a global weight site carrying 1/N of its KL), the
// predictive intervals of a Bayesian linear layer covering data drawn from a known Bayesian
// linear model, and a Bayesian GRU's forecast paths growing in variance as an AR(1) process's do.
#include "elbo/core/rng.h"
#include "elbo/data/series.h"
#include "elbo/diag/forecast.h"
#include "elbo/diag/regression.h"
#include "elbo/model/bnn.h"
#include "elbo/model/brnn.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/trainer.h"

#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace elbo::model {
namespace {

using torch::Tensor;

/// Trains `model` on `data` by the ELBO with `particles` draws, Adam at lr 0.01.
void fit(const std::shared_ptr<Model>& model, const data::Dataset& data, int64_t epochs, int64_t batch_size,
         int64_t particles = 1) {
  train::TrainerOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.lr = 0.01;
  o.log_every = 1000;
  train::Trainer trainer(model, std::make_shared<objective::Elbo>(objective::ElboOptions().particles(particles)), o);
  trainer.fit(data, data::Dataset());
}

BnnOptions regression_options(int64_t features, int64_t examples) {
  BnnOptions o;
  o.classification = false;
  o.features = features;
  o.outputs = 1;
  o.examples = examples;
  o.layers.initial_scale = 0.05;
  o.draws = 200;
  return o;
}

TEST(Bnn, TraceHasAGlobalWeightSiteCarryingItsShareOfTheKl) {
  torch::manual_seed(1);
  BnnOptions o;
  o.features = 6, o.outputs = 3, o.examples = 50, o.hidden = {8};
  Bnn m(o);
  data::Batch b;
  b.x = torch::randn({5, 6});
  b.y = torch::tensor({0, 1, 2, 1, 0}, torch::kLong);
  const Trace t = m->forward(b, 4);
  const Site* w = t.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->kind, SiteKind::global);
  EXPECT_DOUBLE_EQ(w->share, 1.0 / 50);
  EXPECT_EQ(t.find("y")->log_p.sizes(), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(torch::allclose(t.kl(true), (w->kl / 50).expand({1, 5})));
  // The predictive classifier is a distribution over the classes.
  EXPECT_TRUE(torch::allclose(m->classify(b).exp().sum(1), torch::ones({5}), 1e-5, 1e-5));
  // A network loaded back without its training set's size keeps the KL share it was trained with.
  o.examples = 1;
  Bnn loaded(o);
  std::stringstream bytes;
  torch::serialize::OutputArchive out;
  m->save(out);
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  loaded->load(in);
  EXPECT_TRUE(torch::allclose(loaded->forward(b, 1).kl(true), (w->kl / 50).expand({1, 5})));
  b.y = torch::tensor({0, 1, 3, 1, 0}, torch::kLong);
  test::expect_invalid_argument([&] { m->forward(b, 1); }, {"labels must be in 0..2"});
}

TEST(Bnn, ConvolutionalNetworkTellsHorizontalFromVerticalBars) {
  // 8 x 8 images of one bar (horizontal: class 0, vertical: class 1) at a random place, plus
  // N(0, 0.3^2) noise: one Bayesian 4x4 stride-2 convolution, then 16 hidden units.
  auto make = [](int64_t rows) {
    data::Dataset d;
    d.y = torch::randint(2, {rows}, torch::kLong);
    const Tensor at = torch::randint(8, {rows}, torch::kLong);
    Tensor images = 0.3 * torch::randn({rows, 8, 8});
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t k = at[i].item<int64_t>();
      (d.y[i].item<int64_t>() == 0 ? images[i][k] : images[i].select(1, k)) += 1.0;
    }
    d.x = images.view({rows, 64});
    d.image = {1, 8, 8};
    return d;
  };
  torch::manual_seed(5);
  const data::Dataset train = make(512), test = make(1000);
  BnnOptions o;
  o.features = 64, o.outputs = 2, o.examples = 512, o.hidden = {16}, o.channels = {4}, o.image = {1, 8, 8};
  o.layers.initial_scale = 0.01;
  seed_stream(1, RngStream::init);
  Bnn m(o);
  EXPECT_EQ(m->weights().size(), 6u) << "kernel, bias of the convolution and of two linear layers";
  EXPECT_EQ(m->weights()[0].loc.sizes(), (std::vector<int64_t>{4, 1, 4, 4}));
  fit(m.ptr(), train, 60, 64);
  m->eval();
  data::Batch b;
  b.x = test.x;
  const double accuracy = (m->classify(b).argmax(1) == test.y).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(accuracy, 0.95);
  // The weight site's closed-form KL covers the kernels too.
  b.y = test.y;
  const Trace trace = m->forward(b, 1);
  EXPECT_NEAR(trace.find("w")->kl.item<double>(), nn::closed_form_kl(m->weights(), o.layers.prior).item<double>(), 1e-6);
  // Inputs that are not images of the stated shape are refused.
  o.image = {1, 4, 4};
  test::expect_invalid_argument([&] { Bnn{o}; }, {"needs image data", "64 features", "4x4x1"});
}

TEST(Bnn, PredictiveIntervalsCoverDataFromAKnownBayesianLinearModel) {
  // t = x . w + 0.5 eps with w ~ N(0, I) drawn once; a Bayesian linear layer (no hidden layer)
  // with the same prior and a learned noise scale.
  torch::manual_seed(2);
  const int64_t n = 400, p = 3;
  const Tensor w = torch::randn({p});
  auto make = [&](int64_t rows) {
    data::Dataset d;
    d.x = torch::randn({rows, p});
    d.target = (torch::matmul(d.x, w) + 0.5 * torch::randn({rows})).unsqueeze(1);
    return d;
  };
  const data::Dataset train = make(n), test = make(4000);
  seed_stream(1, RngStream::init);
  Bnn m(regression_options(p, n));
  fit(m.ptr(), train, 1500, n, 8);
  EXPECT_NEAR(m->noise_scale().item<double>(), 0.5, 0.05);
  torch::manual_seed(3);
  const diag::RegressionPrediction pred = diag::predict_regression(*m, test, 200);
  const diag::RegressionScores s = diag::score_regression(pred, test.target);
  // Binomial standard errors of the coverage over 4000 rows: about 0.005 (90%) and 0.008 (50%).
  EXPECT_NEAR(s.coverage90, 0.9, 3 * std::sqrt(0.09 / 4000) + 0.01);
  EXPECT_NEAR(s.coverage50, 0.5, 3 * std::sqrt(0.25 / 4000) + 0.01);
  EXPECT_NEAR(s.rmse, 0.5, 0.05);
}

TEST(Bnn, StudentTNoiseIsCauchyAtOneDegreeOfFreedomAndGaussianAtMany) {
  for (double nu : {1.0, 1e7}) {
    BnnOptions o = regression_options(2, 10);
    o.student_df = nu;
    o.noise_scale = 0.7;
    Bnn m(o);
    m->to(torch::kDouble);
    const Tensor f = torch::tensor({0.0, 1.0, -2.0}, torch::kDouble), t = torch::tensor({0.5, -1.0, 3.0}, torch::kDouble);
    const Tensor z = (t - f) / 0.7;
    const Tensor expected = nu == 1.0 ? -torch::log(M_PI * 0.7 * (1 + z.square()))
                                      : -0.5 * z.square() - std::log(0.7) - 0.5 * std::log(2 * M_PI);
    EXPECT_TRUE(torch::allclose(m->log_likelihood(t, f), expected, 1e-5, 1e-6)) << "nu = " << nu;
    if (nu == 1.0) {  // half of a Cauchy's mass lies within one scale of its centre
      torch::manual_seed(7);
      torch::NoGradGuard no_grad;
      const Tensor draws = m->sample_noise(torch::zeros({40000, 1}, torch::kDouble));
      const double inside = (draws.abs() < 0.7).to(torch::kDouble).mean().item<double>();
      EXPECT_NEAR(inside, 0.5, 3 * std::sqrt(0.25 / 40000));
    }
  }
}

TEST(MixtureQuantiles, OneComponentIsTheGaussianAndTwoInvertTheCdf) {
  const Tensor q = diag::mixture_quantiles(torch::full({1, 1}, 2.0, torch::kDouble), torch::tensor(3.0, torch::kDouble),
                                           {0.05, 0.5, 0.95});
  EXPECT_NEAR(q[0].item<double>(), 2 - 1.6448536269514722 * 3, 1e-8);
  EXPECT_NEAR(q[1].item<double>(), 2, 1e-8);
  EXPECT_NEAR(q[2].item<double>(), 2 + 1.6448536269514722 * 3, 1e-8);
  const Tensor means = torch::tensor({-1.0, 4.0}, torch::kDouble).view({2, 1});
  const Tensor q2 = diag::mixture_quantiles(means, torch::tensor(0.5, torch::kDouble), {0.3});
  const double cdf = 0.5 * (0.5 * std::erfc(-(q2.item<double>() + 1) / (0.5 * std::sqrt(2.0))) +
                            0.5 * std::erfc(-(q2.item<double>() - 4) / (0.5 * std::sqrt(2.0))));
  EXPECT_NEAR(cdf, 0.3, 1e-9);
}

TEST(Crps, OfGaussianSamplesIsTheClosedForm) {
  // CRPS(N(mu, s^2), y) = s (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)), z = (y - mu) / s.
  torch::manual_seed(4);
  const double mu = 1.0, s = 2.0;
  const Tensor samples = mu + s * torch::randn({40000, 3}, torch::kDouble);
  const std::vector<double> ys{1.0, 2.5, -4.0};
  const Tensor got = diag::crps(samples, torch::tensor(ys, torch::kDouble));
  for (int i = 0; i < 3; ++i) {
    const double z = (ys[i] - mu) / s;
    const double exact = s * (z * std::erf(z / std::sqrt(2.0)) + 2 * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI) -
                              1 / std::sqrt(M_PI));
    EXPECT_NEAR(got[i].item<double>(), exact, 0.02) << "y = " << ys[i];
  }
  // A point forecast's CRPS is its absolute error.
  EXPECT_NEAR(diag::crps(torch::full({5, 1}, 3.0, torch::kDouble), torch::tensor({1.0}, torch::kDouble)).item<double>(), 2.0,
              1e-12);
}

/// An AR(1) series x_t = phi x_{t-1} + e_t, e_t ~ N(0, 1), as a [T, 1] tensor.
Tensor ar1(int64_t t, double phi) {
  torch::manual_seed(5);
  std::vector<double> x(t);
  const Tensor e = torch::randn({t}, torch::kDouble);
  x[0] = e[0].item<double>() / std::sqrt(1 - phi * phi);
  for (int64_t i = 1; i < t; ++i) x[i] = phi * x[i - 1] + e[i].item<double>();
  return torch::tensor(x, torch::kDouble).unsqueeze(1);
}

TEST(Brnn, ForecastVarianceGrowsAsTheAr1ProcesssDoes) {
  // Standardized AR(1) (stationary variance 1): the h-step forecast variance is 1 - phi^(2h).
  const double phi = 0.8;
  const Tensor series = ar1(2000, phi);
  const Tensor z = (series - series.mean()) / series.std();
  const data::Dataset windows = data::series_windows(z, 0, 2000, 10, 2, "ar1");
  seed_stream(1, RngStream::init);
  BrnnOptions o;
  o.window = 10;
  o.hidden = 8;
  o.layers.sampling = nn::WeightSampling::weights;
  o.layers.initial_scale = 0.01;
  o.share = 9.0 / 1999;
  Brnn m(o);
  fit(m.ptr(), windows, 12, 50);
  torch::manual_seed(6);
  torch::NoGradGuard no_grad;
  m->eval();
  // From a context ending at 0 the h-step forecast is N(0, 1 - phi^(2h)) (in standardized units, noise variance 1 - phi^2).
  const Tensor context = torch::zeros({9, 1});
  const Tensor paths = m->forecast(context, 8, 4000).squeeze(2).to(torch::kDouble);  // [S, 8]
  const Tensor variance = paths.var(0);
  for (int64_t h : {1, 2, 4, 8}) {
    const double exact = 1 - std::pow(phi, 2 * h);
    EXPECT_NEAR(variance[h - 1].item<double>(), exact, 0.2 * exact) << "horizon " << h;
  }
  EXPECT_LT(variance[0].item<double>(), variance[3].item<double>());
}

TEST(Brnn, RefusesMaskedWindowsAndBadHorizons) {
  BrnnOptions o;
  o.window = 4;
  o.hidden = 3;
  Brnn m(o);
  data::Batch b;
  b.x = torch::zeros({2, 4});
  b.mask = torch::ones({2, 4});
  test::expect_invalid_argument([&] { m->forward(b, 1); }, {"missing values"});
  test::expect_invalid_argument([&] { m->forecast(torch::zeros({3, 1}), 0, 10); }, {"horizon must be >= 1"});
}

}  // namespace
}  // namespace elbo::model
