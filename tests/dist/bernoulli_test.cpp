#include "elbo/dist/bernoulli.h"
#include "elbo/dist/bernoulli_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/monte_carlo.h"
#include "support/reference_table.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

TEST(Bernoulli, LogProbIsMinusBinaryCrossEntropyWithLogits) {
  const auto logits = torch::tensor({-40.0, -3.0, -0.2, 0.0, 0.7, 5.0, 40.0}, f64);
  for (double x : {0.0, 1.0, 0.25, 0.9}) {
    const auto xs = torch::full({7}, x, f64);
    const auto bce = torch::binary_cross_entropy_with_logits(logits, xs, {}, {}, at::Reduction::None);
    EXPECT_TRUE(torch::allclose(Bernoulli(logits).log_prob_elements(xs), -bce, 1e-14, 1e-14)) << x;
  }
}

TEST(Bernoulli, LogProbAndEntropyMatchClosedForm) {
  for (double l : {-3.0, 0.0, 0.4, 12.0}) {
    const double p = 1 / (1 + std::exp(-l));
    const Bernoulli d(torch::tensor({l}, f64));
    EXPECT_NEAR(d.log_prob(torch::ones({1}, f64)).item<double>(), std::log(p), 1e-14);
    // log(1 - p) = -l - log(1 + e^-l) (1 - p itself loses digits for large l).
    EXPECT_NEAR(d.log_prob(torch::zeros({1}, f64)).item<double>(), -l - std::log1p(std::exp(-l)), 1e-14);
    EXPECT_NEAR(d.entropy().item<double>(), -(p * std::log(p) + (1 - p) * std::log1p(-p)), 1e-10);
    EXPECT_NEAR(d.mean().item<double>(), p, 1e-15);
  }
  // Saturated logits stay finite (no log(0)).
  const Bernoulli sat(torch::tensor({-800.0, 800.0}, f64));
  EXPECT_TRUE(torch::isfinite(sat.entropy_elements()).all().item<bool>());
  EXPECT_NEAR(sat.log_prob_elements(torch::tensor({0.0, 1.0}, f64)).abs().max().item<double>(), 0.0, 1e-300);
}

TEST(Bernoulli, MatchesTorchDistributionsReference) {
  const auto rows = test::reference_rows("Bernoulli");
  ASSERT_GT(rows.size(), 20u);
  for (const auto& r : rows) {
    const Bernoulli q(torch::tensor({r.q[0]}, f64));
    double got;
    if (r.quantity == "log_prob") {
      got = q.log_prob(torch::tensor({r.x}, f64)).item<double>();
    } else if (r.quantity == "entropy") {
      got = q.entropy().item<double>();
    } else {
      continue;
    }
    EXPECT_NEAR(got, r.value, 1e-12 * (1 + std::abs(r.value))) << r.quantity << " l=" << r.q[0];
  }
}

TEST(Bernoulli, SampleFrequenciesMatchWithinStandardErrors) {
  torch::manual_seed(2);
  const auto logits = torch::tensor({-2.0, 0.0, 1.5}, f64);
  const auto z = Bernoulli(logits.clone().requires_grad_(true)).sample(20000);
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({20000, 3}));
  EXPECT_TRUE(((z == 0) | (z == 1)).all().item<bool>());
  const auto p = logits.sigmoid();
  test::expect_within_standard_errors(z.mean(0), p, (p * (1 - p) / 20000.0).sqrt());
}

TEST(Bernoulli, IsNotReparameterizable) {
  const Bernoulli d(torch::zeros({2}));
  EXPECT_FALSE(d.has_rsample());
  test::expect_invalid_argument([&] { d.rsample(); }, {"elbo::dist::Bernoulli", "is not reparameterizable"});
}

TEST(Bernoulli, MaskDropsExactlyTheMaskedTerms) {
  const auto logits = torch::tensor({800.0, 0.3}, f64);
  const Bernoulli d(logits);
  const auto x = torch::tensor({0.0, 1.0}, f64);  // first term is log(1 - sigmoid(800)) = -800
  const auto lp = d.log_prob(x, torch::tensor({0.0, 1.0}, f64));
  EXPECT_EQ(lp.item<double>(), d.log_prob_elements(x)[1].item<double>());
  // A -inf element (logit -inf scored at x = 1) is dropped exactly too.
  const Bernoulli inf_logit(torch::tensor({-std::numeric_limits<double>::infinity(), 0.0}, f64));
  EXPECT_EQ(inf_logit.log_prob(torch::ones({2}, f64), torch::tensor({0.0, 1.0}, f64)).item<double>(),
            -std::log(2.0));
}

TEST(Bernoulli, BadInputsThrowWithMessages) {
  test::expect_invalid_argument([] { Bernoulli(torch::zeros({3}, torch::kInt)); },
                                {"elbo::dist::Bernoulli: logits must be a floating-point tensor"});
  test::expect_invalid_argument([] { Bernoulli(torch::zeros({3})).log_prob(torch::zeros({2})); },
                                {"elbo::dist::Bernoulli::log_prob", "[2] vs [3]"});
}

}  // namespace
}  // namespace elbo::dist

TEST(BernoulliKernel, NoGradientPassMatchesTheAutogradExpression) {
  torch::manual_seed(11);
  const torch::Tensor logits = torch::randn({3, 4, 50}) * 6, x = torch::rand({4, 50});
  const elbo::dist::Bernoulli b(logits);
  torch::Tensor fast;
  {
    torch::NoGradGuard no_grad;
    fast = b.log_prob(x);  // [3, 4]: x shared by the 3 particles
  }
  const torch::Tensor exact = (x * logits.to(torch::kDouble) - torch::softplus(logits.to(torch::kDouble))).sum(-1);
  ASSERT_EQ(fast.sizes(), exact.sizes());
  EXPECT_LT(((fast.to(torch::kDouble) - exact).abs() / exact.abs()).max().item<double>(), 1e-6);
}

TEST(BernoulliKernel, GradientWrittenOverTheLogitsMatchesTheSigmoidMinusX) {
  // 3 rows of 50 (a vector tail of 2): the gradient in place of the logits, as the fused step has it.
  torch::manual_seed(12);
  const torch::Tensor logits = torch::randn({3, 50}) * 6, x = torch::rand({3, 50});
  torch::Tensor in_place = logits.clone(), out = torch::empty({3});
  elbo::dist::bernoulli_log_prob_rows(x.data_ptr<float>(), 3, in_place.data_ptr<float>(), 3, 50, out.data_ptr<float>(),
                                      in_place.data_ptr<float>(), 0.5f);
  const torch::Tensor grad = (torch::sigmoid(logits.to(torch::kDouble)) - x) * 0.5;
  EXPECT_LT((in_place.to(torch::kDouble) - grad).abs().max().item<double>(), 1e-6);
  const torch::Tensor exact = (x * logits.to(torch::kDouble) - torch::softplus(logits.to(torch::kDouble))).sum(-1);
  EXPECT_LT(((out.to(torch::kDouble) - exact).abs() / exact.abs()).max().item<double>(), 1e-6);
}
