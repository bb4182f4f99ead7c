#include "elbo/dist/categorical.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/monte_carlo.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

TEST(Categorical, LogProbMatchesClosedFormForFloatAndIntegerIndices) {
  // Two positions (L = 2), three classes.
  const auto logits = torch::tensor({{1.0, 2.0, 0.5}, {-1.0, 0.0, 3.0}}, f64);
  const Categorical d(logits);
  auto log_p = [](std::vector<double> l, int c) {
    double z = 0;
    for (double v : l) z += std::exp(v);
    return l[c] - std::log(z);
  };
  const double e0 = log_p({1.0, 2.0, 0.5}, 2), e1 = log_p({-1.0, 0.0, 3.0}, 0);
  for (auto dtype : {torch::kDouble, torch::kFloat, torch::kLong, torch::kInt}) {
    const auto x = torch::tensor({2, 0}).to(dtype);
    const auto el = d.log_prob_elements(x);
    EXPECT_NEAR(el[0].item<double>(), e0, 1e-14);
    EXPECT_NEAR(el[1].item<double>(), e1, 1e-14);
    EXPECT_NEAR(d.log_prob(x).item<double>(), e0 + e1, 1e-14);
  }
}

TEST(Categorical, BroadcastsParticlesAndBatches) {
  const Categorical d(torch::zeros({4, 5, 3}));  // B = 4, L = 5, C = 3
  EXPECT_EQ(d.sample_shape(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(d.sample(7).sizes(), torch::IntArrayRef({7, 4, 5}));
  EXPECT_EQ(d.mean().sizes(), torch::IntArrayRef({4, 5, 3}));
  EXPECT_EQ(d.log_prob(torch::zeros({2, 4, 5})).sizes(), torch::IntArrayRef({2, 4}));
  EXPECT_NEAR(d.log_prob(torch::zeros({4, 5}))[0].item<float>(), -5 * std::log(3.0), 1e-5);
}

TEST(Categorical, MatchesTorchDistributionsReference) {
  const auto rows = test::reference_rows("Categorical");
  ASSERT_GT(rows.size(), 20u);
  for (const auto& r : rows) {
    const Categorical d(torch::tensor(r.q, f64).unsqueeze(0));
    double got;
    if (r.quantity == "log_prob") {
      got = d.log_prob(torch::tensor({r.x}, f64)).item<double>();
    } else if (r.quantity == "entropy") {
      got = d.entropy().item<double>();
    } else {
      continue;
    }
    EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << r.quantity << " x=" << r.x;
  }
}

TEST(Categorical, EntropyHandlesImpossibleClasses) {
  const double inf = std::numeric_limits<double>::infinity();
  const Categorical d(torch::tensor({{0.0, -inf, 0.0}}, f64));
  EXPECT_NEAR(d.entropy().item<double>(), std::log(2.0), 1e-15);
  EXPECT_EQ(d.log_prob_elements(torch::tensor({1.0}, f64)).item<double>(), -inf);
}

TEST(Categorical, SampleFrequenciesMatchWithinStandardErrors) {
  torch::manual_seed(6);
  const auto logits = torch::tensor({{0.0, 1.0, -1.0, 2.0}}, f64);
  const Categorical d(logits);
  const int64_t n = 40000;
  const auto z = d.sample(n);
  EXPECT_EQ(z.scalar_type(), torch::kDouble);
  const auto onehot = torch::one_hot(z.squeeze(-1).to(torch::kLong), 4).to(torch::kDouble);
  const auto p = logits.softmax(-1).squeeze(0);
  test::expect_within_standard_errors(onehot.mean(0), p, (p * (1 - p) / double(n)).sqrt());
  EXPECT_TRUE(torch::allclose(d.mean().squeeze(0), p, 1e-15, 1e-15));
}

TEST(Categorical, MaskDropsExactlyTheMaskedTerms) {
  const double inf = std::numeric_limits<double>::infinity();
  const Categorical d(torch::tensor({{0.0, -inf}, {1.0, 1.0}}, f64));
  const auto x = torch::tensor({1.0, 0.0}, f64);  // the first term is log 0 = -inf
  EXPECT_EQ(d.log_prob(x).item<double>(), -inf);
  EXPECT_EQ(d.log_prob(x, torch::tensor({0.0, 1.0}, f64)).item<double>(), -std::log(2.0));
  // Masked positions may hold invalid indices (e.g. -1 for missing).
  EXPECT_EQ(d.log_prob(torch::tensor({-1.0, 0.0}, f64), torch::tensor({0.0, 1.0}, f64)).item<double>(),
            -std::log(2.0));
}

TEST(Categorical, IsNotReparameterizable) {
  test::expect_invalid_argument([] { Categorical(torch::zeros({2, 3})).rsample(4); },
                                {"elbo::dist::Categorical", "is not reparameterizable"});
}

TEST(Categorical, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { Categorical(torch::zeros({3})); },
                                {"elbo::dist::Categorical: logits must be [..., L, C]", "[3]"});
  const Categorical d(torch::zeros({2, 3}));
  test::expect_invalid_argument([&] { d.log_prob(torch::tensor({0.0, 3.0})); },
                                {"class indices must lie in [0, 3)", "got values in [0, 3]"});
  test::expect_invalid_argument([&] { d.log_prob(torch::tensor({0.5, 1.0})); }, {"whole numbers"});
  test::expect_invalid_argument([&] { d.log_prob(torch::zeros({3})); },
                                {"elbo::dist::Categorical::log_prob", "[3] vs [2]"});
}

}  // namespace
}  // namespace elbo::dist
