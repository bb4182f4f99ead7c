#include "elbo/dist/poisson.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/monte_carlo.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

TEST(Poisson, LogProbMatchesClosedForm) {
  const Poisson d(torch::tensor({0.7, -2.0, 3.0}, f64));
  const auto x = torch::tensor({2.0, 0.0, 25.0}, f64);
  const auto got = d.log_prob_elements(x);
  const double r[] = {0.7, -2.0, 3.0}, xs[] = {2.0, 0.0, 25.0};
  for (int i = 0; i < 3; ++i) {
    const double rate = std::exp(r[i]);
    EXPECT_NEAR(got[i].item<double>(), xs[i] * std::log(rate) - rate - std::lgamma(xs[i] + 1), 1e-12);
  }
  EXPECT_NEAR(d.mean()[2].item<double>(), std::exp(3.0), 1e-12);
}

TEST(Poisson, MatchesScipyAndTorchReference) {
  const auto rows = test::reference_rows("Poisson", "log_prob");
  ASSERT_GT(rows.size(), 10u);
  for (const auto& r : rows) {
    const double got = Poisson(torch::tensor({r.q[0]}, f64)).log_prob(torch::tensor({r.x}, f64)).item<double>();
    EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << "r=" << r.q[0] << " x=" << r.x;
  }
}

TEST(Poisson, SampleMomentsMatchWithinStandardErrors) {
  torch::manual_seed(12);
  const auto log_rate = torch::tensor({-1.0, 1.0, 3.0}, f64);
  const auto z = Poisson(log_rate).sample(20000);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({20000, 3}));
  EXPECT_TRUE(torch::equal(z, z.round()));
  const auto rate = log_rate.exp();
  test::expect_within_standard_errors(z.mean(0), rate, test::standard_error(z));
  test::expect_within_standard_errors(test::sample_variance(z), rate, test::standard_error((z - rate).square()));
}

TEST(Poisson, IsNotReparameterizableAndHasNoClosedFormEntropy) {
  const Poisson d(torch::zeros({2}));
  test::expect_invalid_argument([&] { d.rsample(); }, {"elbo::dist::Poisson", "is not reparameterizable"});
  test::expect_invalid_argument([&] { d.entropy(); }, {"Poisson has no closed-form entropy"});
}

TEST(Poisson, MaskDropsExactlyTheMaskedTerms) {
  const Poisson d(torch::tensor({0.0, 1.0}, f64));
  const auto lp = d.log_prob(torch::tensor({3.0, -1.0}, f64), torch::tensor({1.0, 0.0}, f64));
  EXPECT_EQ(lp.item<double>(), d.log_prob_elements(torch::tensor({3.0, 0.0}, f64))[0].item<double>());
}

TEST(Poisson, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { Poisson(torch::zeros({2}, torch::kLong)); },
                                {"elbo::dist::Poisson: log_rate must be a floating-point tensor"});
}

}  // namespace
}  // namespace elbo::dist
