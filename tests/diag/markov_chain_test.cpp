#include "elbo/diag/markov_chain.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

using elbo::diag::bits_per_base;
using elbo::diag::MarkovChain;
using ::testing::HasSubstr;
using torch::Tensor;

/// n windows of `length` symbols from a second-order chain over 4 symbols: the first two uniform, then
/// x_i ~ transition[4 x_{i-2} + x_{i-1}] (drawn here, independently of MarkovChain::sample).
Tensor second_order_windows(const Tensor& transition, int64_t n, int64_t length, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Tensor x = torch::randint(4, {n, length}, gen, torch::kLong);
  for (int64_t i = 2; i < length; ++i)
    x.select(1, i).copy_(
        torch::multinomial(transition.index_select(0, x.select(1, i - 2) * 4 + x.select(1, i - 1)), 1, false, gen)
            .squeeze(1));
  return x;
}

/// A fixed second-order transition matrix [16, 4] with rows far from uniform.
Tensor known_transitions() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  return torch::softmax(1.5 * torch::randn({16, 4}, gen, torch::kDouble), 1);
}

/// Every |estimate - truth| within 4 binomial standard errors sqrt(p (1 - p) / n(c)) of its context's count n(c),
/// plus the pseudocounts' bias, at most 4 alpha / (n(c) + 4 alpha).
void expect_recovered(const MarkovChain& chain, const Tensor& truth) {
  const Tensor n = chain.counts(2).sum(1, true);
  ASSERT_GT(n.min().item<double>(), 1000);
  const Tensor tolerance = 4 * (truth * (1 - truth) / n).sqrt() + 4 * chain.alpha() / (n + 4 * chain.alpha());
  const Tensor error = (chain.probabilities(2) - truth).abs();
  EXPECT_TRUE((error <= tolerance).all().item<bool>()) << "errors\n" << error << "\ntolerances\n" << tolerance;
}

TEST(MarkovChain, RecoversTheTransitionsOfAKnownSecondOrderChain) {
  const Tensor truth = known_transitions();
  const Tensor x = second_order_windows(truth, 2000, 200, 11);  // ~25000 transitions per context
  const MarkovChain chain = MarkovChain::fit(x.to(torch::kFloat), {}, 2);
  expect_recovered(chain, truth);
  EXPECT_EQ(chain.counts(2).sum().item<double>(), 2000 * 198);  // positions with two bases before them
  EXPECT_EQ(chain.counts(1).sum().item<double>(), 2000 * 199);
  EXPECT_EQ(chain.counts(0).sum().item<double>(), 2000 * 200);
  // The second-order chain codes the data in fewer bits than the first-order chain, and the third order
  // gains nothing beyond its extra parameters (held-out windows of the same chain).
  const Tensor test = second_order_windows(truth, 500, 200, 12);
  const MarkovChain third = MarkovChain::fit(x, {}, 3);
  const double b1 = bits_per_base(third.truncated(1), test), b2 = bits_per_base(third.truncated(2), test),
               b3 = bits_per_base(third, test);
  EXPECT_LT(b2, b1 - 0.05);
  EXPECT_NEAR(b3, b2, 0.005);
  EXPECT_NEAR(b2, bits_per_base(chain, test), 1e-12);  // truncated(2) of order 3 = fit with order 2
}

TEST(MarkovChain, SamplesFollowTheChain) {
  const Tensor truth = known_transitions();
  const MarkovChain chain = MarkovChain::fit(second_order_windows(truth, 2000, 200, 11), {}, 2);
  const Tensor s = chain.sample(2000, 200, 5);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{2000, 200}));
  ASSERT_EQ(s.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(s, chain.sample(2000, 200, 5)));
  // Refitted on its own samples, the chain's transitions come back within Monte Carlo error.
  expect_recovered(MarkovChain::fit(s, {}, 2), chain.probabilities(2));
  // The first base is drawn from order 0, the second from order 1 given the first (binomial 4 SE each).
  const Tensor first = torch::bincount(s.select(1, 0), {}, 4).to(torch::kDouble) / 2000;
  const Tensor p0 = chain.probabilities(0).squeeze(0);
  EXPECT_TRUE(((first - p0).abs() <= 4 * (p0 * (1 - p0) / 2000).sqrt()).all().item<bool>()) << first << p0;
  const Tensor pairs = torch::bincount(s.select(1, 0) * 4 + s.select(1, 1), {}, 16).to(torch::kDouble).view({4, 4});
  const Tensor p1 = chain.probabilities(1), n1 = pairs.sum(1, true);
  EXPECT_TRUE(((pairs / n1 - p1).abs() <= 4 * (p1 * (1 - p1) / n1).sqrt() + 1e-12).all().item<bool>()) << pairs;
  // Its 3-mer frequencies past the first two positions: p(ab) at positions 0, 1 times p2(c | ab), within 4 SE of
  // the frequency over 2000 windows (one 3-mer per window at positions 0..2).
  const Tensor trimers = torch::bincount(s.select(1, 0) * 16 + s.select(1, 1) * 4 + s.select(1, 2), {}, 64)
                             .to(torch::kDouble) / 2000;
  const Tensor expected = (p0.view({4, 1}) * p1).reshape({16, 1}) * chain.probabilities(2);
  const Tensor e = expected.reshape({64});
  EXPECT_TRUE(((trimers - e).abs() <= 4 * (e * (1 - e) / 2000).sqrt() + 1e-12).all().item<bool>());
}

TEST(MarkovChain, HandWorkedLogProbability) {
  // Two symbols, order 1, alpha = 1/2, trained on 011 and 110:
  //   order 0: n = (2, 4)            -> p0 = (2.5, 4.5) / 7
  //   order 1: n(0, .) = (0, 1)      -> p1(. | 0) = (0.5, 1.5) / 2 = (0.25, 0.75)
  //            n(1, .) = (1, 2)      -> p1(. | 1) = (1.5, 2.5) / 4 = (0.375, 0.625)
  const Tensor train = torch::tensor({0, 1, 1, 1, 1, 0}, torch::kLong).view({2, 3});
  const MarkovChain chain = MarkovChain::fit(train, {}, 1, 2, 0.5);
  EXPECT_TRUE(torch::allclose(chain.probabilities(0), torch::tensor({2.5 / 7, 4.5 / 7}, torch::kDouble).view({1, 2})));
  EXPECT_TRUE(torch::allclose(chain.probabilities(1), torch::tensor({0.25, 0.75, 0.375, 0.625}, torch::kDouble).view({2, 2})));
  // 100: p0(1) p1(0 | 1) p1(0 | 0); with the middle base unknown: p0(1), nothing, then p0(0) (the context backs off).
  const Tensor test = torch::tensor({1, 0, 0, 1, 3, 0}, torch::kFloat).view({2, 3});  // 3: unknown, any value
  const Tensor mask = torch::tensor({1, 1, 1, 1, 0, 1}, torch::kFloat).view({2, 3});
  const Tensor lp = chain.log_prob(test, mask);
  EXPECT_NEAR(lp[0].item<double>(), std::log(4.5 / 7) + std::log(0.375) + std::log(0.25), 1e-12);
  EXPECT_NEAR(lp[1].item<double>(), std::log(4.5 / 7) + std::log(2.5 / 7), 1e-12);
  EXPECT_NEAR(bits_per_base(chain, test, mask), -lp.sum().item<double>() / (5 * std::log(2.0)), 1e-12);
}

TEST(MarkovChain, MaskedBasesAreNeitherCountedNorScored) {
  // 011 with its middle base unknown and 110: order 0 counts (1 + 1, 1 + 2); order 1 only 1->1 and 1->0.
  const Tensor train = torch::tensor({0, 2, 1, 1, 1, 0}, torch::kLong).view({2, 3});
  const Tensor mask = torch::tensor({1, 0, 1, 1, 1, 1}, torch::kLong).view({2, 3});
  const MarkovChain chain = MarkovChain::fit(train, mask, 1, 2);
  EXPECT_TRUE(torch::equal(chain.counts(0), torch::tensor({2.0, 3.0}, torch::kDouble).view({1, 2})));
  EXPECT_TRUE(torch::equal(chain.counts(1), torch::tensor({0.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2})));
  // Whatever an unknown base holds, the score is the same.
  const Tensor x = torch::randint(2, {50, 40}, torch::kLong), m = (torch::rand({50, 40}) > 0.2).to(torch::kLong);
  const Tensor other = torch::where(m > 0, x, 1 - x);
  EXPECT_TRUE(torch::equal(chain.log_prob(x, m), chain.log_prob(other, m)));
  EXPECT_TRUE(torch::equal(chain.log_prob(x, torch::zeros_like(m)), torch::zeros({50}, torch::kDouble)));
}

TEST(MarkovChain, OrderZeroBitsPerBaseIsTheEntropyOfTheSmoothedFrequencies) {
  // Scored on its own training data, order 0 codes base s with -log2 p(s), p(s) = (n_s + alpha) / (N + C alpha):
  // bits/base = sum_s f_s (-log2 p(s)) with f the empirical frequencies, which tends to H(f) as N grows.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const Tensor x = torch::multinomial(torch::tensor({0.1, 0.2, 0.3, 0.4}), 100000, true, gen).view({500, 200});
  const MarkovChain chain = MarkovChain::fit(x, {}, 0);
  const Tensor f = torch::bincount(x.reshape({-1}), {}, 4).to(torch::kDouble) / 100000;
  const Tensor p = (f * 100000 + 0.5) / (100000 + 2.0);
  EXPECT_NEAR(bits_per_base(chain, x), -(f * p.log2()).sum().item<double>(), 1e-12);
  EXPECT_NEAR(bits_per_base(chain, x), -(f * f.log2()).sum().item<double>(), 1e-5);
}

TEST(MarkovChain, ErrorsNameWhatWasExpected) {
  const Tensor x = torch::tensor({0, 1, 4}, torch::kLong).view({1, 3});
  try {
    MarkovChain::fit(x, {}, 1);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("class indices 0..3"));
  }
  try {
    MarkovChain::fit(x, torch::ones({3}), 1);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("must have the shape of the windows"));
  }
  EXPECT_THROW(MarkovChain::fit(x.clamp_max(3), {}, -1), std::invalid_argument);
  EXPECT_THROW(MarkovChain::fit(x.clamp_max(3), {}, 1).counts(2), std::invalid_argument);
  // An unknown position may hold anything, even a value outside the alphabet.
  EXPECT_NO_THROW(MarkovChain::fit(x, torch::tensor({1, 1, 0}).view({1, 3}), 1));
}

}  // namespace
