#include "elbo/dist/continuous_bernoulli.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/finite_difference.h"
#include "support/monte_carlo.h"
#include "support/quadrature.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
const std::vector<double> kLogits = {0.0,  1e-4, -1e-4, 1e-3,  -1e-3, 1e-2, -1e-2, 2e-2, -0.05,
                                     0.1,  -0.1, 0.15,  -0.7,  1.0,   5.0,  -5.0,  50.0, -50.0};

// The unnormalized density exp(l x) / (1 + exp(l)), written so that l = +-50 does not overflow.
double unnormalized(double l, double x) { return std::exp(l * x - std::log1p(std::exp(l))); }

TEST(ContinuousBernoulli, LogNormalizerMatchesNumericalIntegration) {
  for (double l : kLogits) {
    const double z = test::trapezoid([&](double x) { return unnormalized(l, x); }, 0, 1);
    const double expected = -std::log(z);
    const auto got = ContinuousBernoulli::log_normalizer(torch::tensor({l}, f64)).item<double>();
    EXPECT_NEAR(got, expected, 1e-9) << "l = " << l;
    const auto got32 = ContinuousBernoulli::log_normalizer(torch::tensor({static_cast<float>(l)})).item<float>();
    EXPECT_NEAR(got32, expected, 2e-6) << "float, l = " << l;
  }
  EXPECT_EQ(ContinuousBernoulli::log_normalizer(torch::zeros({1}, f64)).item<double>(), std::log(2.0));
}

TEST(ContinuousBernoulli, LogProbIntegratesToOne) {
  for (double l : {-50.0, -0.01, 0.0, 3e-3, 0.9, 50.0}) {
    const ContinuousBernoulli d(torch::tensor({l}, f64));
    const auto xs = torch::linspace(0, 1, 200001, f64);
    const auto p = d.log_prob_elements(xs).exp();
    const double integral = torch::trapezoid(p, xs).item<double>();
    EXPECT_NEAR(integral, 1.0, 1e-8) << "l = " << l;
  }
}

TEST(ContinuousBernoulli, MeanAndEntropyMatchNumericalIntegration) {
  for (double l : kLogits) {
    const double z = test::trapezoid([&](double x) { return unnormalized(l, x); }, 0, 1);
    const double mean = test::trapezoid([&](double x) { return x * unnormalized(l, x); }, 0, 1) / z;
    const double entropy = -test::trapezoid(
        [&](double x) {
          const double p = unnormalized(l, x) / z;
          return p * std::log(p);
        },
        0, 1);
    const ContinuousBernoulli d(torch::tensor({l}, f64));
    EXPECT_NEAR(d.mean().item<double>(), mean, 1e-9) << "l = " << l;
    EXPECT_NEAR(d.entropy().item<double>(), entropy, 1e-8) << "l = " << l;
    const ContinuousBernoulli d32(torch::tensor({static_cast<float>(l)}));
    EXPECT_NEAR(d32.mean().item<float>(), mean, 2e-6) << "float, l = " << l;
    EXPECT_NEAR(d32.entropy().item<float>(), entropy, 1e-6 * (1 + std::abs(l))) << "float, l = " << l;
  }
}

TEST(ContinuousBernoulli, MatchesReference) {
  const auto rows = test::reference_rows("ContinuousBernoulli");
  ASSERT_GT(rows.size(), 40u);
  for (const auto& r : rows) {
    const ContinuousBernoulli d(torch::tensor({r.q[0]}, f64));
    double got;
    if (r.quantity == "log_prob") {
      got = d.log_prob(torch::tensor({r.x}, f64)).item<double>();
    } else if (r.quantity == "entropy") {
      got = d.entropy().item<double>();
    } else {
      got = d.mean().item<double>();
    }
    EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << r.quantity << " l=" << r.q[0] << " x=" << r.x;
  }
}

TEST(ContinuousBernoulli, GradientsAreFiniteAndMatchFiniteDifferencesNearZero) {
  const auto logits0 = torch::tensor({0.0, 1e-4, -3e-3, 0.019, 0.021, -0.5, 4.0, 60.0}, f64);
  auto objective = [](const torch::Tensor& l) {
    const ContinuousBernoulli d(l);
    return (ContinuousBernoulli::log_normalizer(l) + d.mean() * 3 + d.entropy_elements()).sum();
  };
  const auto g = test::autograd_gradient(objective, logits0);
  const auto fd = test::finite_difference_gradient(
      [&](const torch::Tensor& l) { return objective(l).item<double>(); }, logits0, 1e-5);
  EXPECT_TRUE(torch::allclose(g, fd, 1e-6, 1e-8)) << g << fd;
}

TEST(ContinuousBernoulli, RsampleGradientMatchesFiniteDifferences) {
  const auto logits0 = torch::tensor({0.0, 2e-4, -5e-3, 0.3, -2.0, 8.0, 12.0, -30.0}, f64);
  auto objective = [](const torch::Tensor& l) {
    torch::manual_seed(9);
    const auto z = ContinuousBernoulli(l).rsample(3);
    return (z.square() + z.sin()).sum();
  };
  const auto g = test::autograd_gradient(objective, logits0);
  const auto fd = test::finite_difference_gradient(
      [&](const torch::Tensor& l) { return objective(l).item<double>(); }, logits0, 1e-5);
  EXPECT_TRUE(torch::allclose(g, fd, 1e-6, 1e-8)) << g << fd;
}

TEST(ContinuousBernoulli, RsampleIsTheInverseCdf) {
  // F(x) = (exp(l x) - 1) / (exp(l) - 1): the sample's CDF value is the uniform draw,
  // which is reproduced by seeding and drawing torch::rand in the same shape.
  for (double l : {-7.0, -0.3, 5e-4, -9e-4, 2.0, 30.0}) {
    const ContinuousBernoulli d(torch::full({6}, l, f64));
    torch::manual_seed(21);
    const auto x = d.rsample(2);
    torch::manual_seed(21);
    const auto u = torch::rand({2, 6}, f64);
    const auto cdf = torch::expm1(l * x) / std::expm1(l);
    EXPECT_TRUE(torch::allclose(cdf, u, 1e-12, 1e-14)) << "l = " << l << cdf << u;
  }
}

TEST(ContinuousBernoulli, RsampleStaysInTheUnitIntervalForExtremeLogits) {
  torch::manual_seed(5);
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    const auto logits = torch::tensor({-1e4, -100.0, -1e-7, 0.0, 1e-7, 100.0, 1e4}).to(dtype);
    const auto z = ContinuousBernoulli(logits).rsample(1000);
    EXPECT_TRUE(torch::isfinite(z).all().item<bool>());
    EXPECT_TRUE(((z >= 0) & (z <= 1)).all().item<bool>());
  }
}

TEST(ContinuousBernoulli, SampleMomentsMatchWithinStandardErrors) {
  torch::manual_seed(8);
  const auto logits = torch::tensor({-4.0, 0.0, 1e-3, 2.5}, f64);
  const ContinuousBernoulli d(logits);
  const auto z = d.sample(40000);
  test::expect_within_standard_errors(z.mean(0), d.mean(), test::standard_error(z));
  for (int64_t i = 0; i < 4; ++i) {
    const double l = logits[i].item<double>();
    const double zz = test::trapezoid([&](double x) { return unnormalized(l, x); }, 0, 1);
    const double m = d.mean()[i].item<double>();
    const double var =
        test::trapezoid([&](double x) { return (x - m) * (x - m) * unnormalized(l, x); }, 0, 1) / zz;
    const auto zi = z.select(1, i);
    test::expect_within_standard_errors(test::sample_variance(zi), torch::tensor(var, f64),
                                        test::standard_error((zi - m).square()));
  }
}

TEST(ContinuousBernoulli, MaskDropsExactlyTheMaskedTerms) {
  const ContinuousBernoulli d(torch::tensor({0.5, -1.0, 2.0}, f64));
  const auto x = torch::tensor({0.2, std::nan(""), -std::numeric_limits<double>::infinity()}, f64);
  const auto lp = d.log_prob(x, torch::tensor({1.0, 0.0, 0.0}, f64));
  EXPECT_EQ(lp.item<double>(), d.log_prob_elements(torch::tensor({0.2}, f64))[0].item<double>());
}

TEST(ContinuousBernoulli, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { ContinuousBernoulli(torch::Tensor()); },
                                {"elbo::dist::ContinuousBernoulli: logits is undefined"});
  test::expect_invalid_argument([] { ContinuousBernoulli(torch::zeros({3})).log_prob(torch::zeros({2, 2})); },
                                {"elbo::dist::ContinuousBernoulli::log_prob", "[2, 2] vs [3]"});
}

}  // namespace
}  // namespace elbo::dist
