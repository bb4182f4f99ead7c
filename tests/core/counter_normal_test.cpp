#include "elbo/core/counter_normal.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#pragma GCC diagnostic ignored "-Wpsabi"  // fast::Vec returned by an always-inlined function

namespace elbo {
namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

TEST(CounterNormal, QuantileOfEveryUniformMatchesTheNormalCdf) {
  // z(h) against the exact quantile of u = (h + 1/2) / 2^24, by one Newton step from z in
  // double: z* = z - (Phi(z) - u) / phi(z). Every 2^24 / 65536-th h and the 256 outermost on each side.
  std::vector<uint32_t> hs;
  for (uint32_t h = 0; h < (1u << 24); h += 256) hs.push_back(h + 17);
  for (uint32_t h = 0; h < 256; ++h) hs.push_back(h), hs.push_back((1u << 24) - 1 - h);
  double worst = 0;
  for (const uint32_t h : hs) {
    const double u = (h + 0.5) / 16777216.0, z = fast::normal_quantile24(h);
    const double exact = z - (normal_cdf(z) - u) / (std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI));
    worst = std::max(worst, std::abs(z - exact) / (1 + std::abs(exact)));
  }
  EXPECT_LT(worst, 2e-6) << "largest error relative to 1 + |z|";
  EXPECT_GT(fast::normal_quantile24(0), -5.5);
  EXPECT_LT(fast::normal_quantile24((1u << 24) - 1), 5.5);
  EXPECT_FLOAT_EQ(fast::normal_quantile24(1u << 23), -fast::normal_quantile24((1u << 23) - 1));
}

TEST(CounterNormal, EightLanesAreTheScalarDraws) {
  const NormalKey key{0x12345678u, 0x9abcdef0u};
  for (uint32_t i = 0; i < 100000; i += 8) {
    const fast::Vec v = fast::standard_normal8(key, i);
    for (int l = 0; l < 8; ++l) ASSERT_NEAR(v[l], fast::standard_normal(key, i + l), 1e-5 * (1 + std::abs(v[l]))) << i + l;
  }
}

TEST(CounterNormal, DrawsHaveTheNormalsMomentsTailsAndDistribution) {
  // 2^21 draws of one key: moments within 5 standard errors (Var z^k = E z^2k - (E z^k)^2),
  // tail frequencies within 5 binomial standard errors, Kolmogorov-Smirnov distance below its
  // 0.1% critical value 1.95 / sqrt(n).
  torch::manual_seed(3);
  const int64_t n = int64_t{1} << 21;
  const torch::Tensor z = standard_normal(NormalKey::draw(), {n}, torch::kDouble);
  const double root_n = std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(z.mean().item<double>(), 0.0, 5 / root_n);
  EXPECT_NEAR(z.square().mean().item<double>(), 1.0, 5 * std::sqrt(2.0) / root_n);
  EXPECT_NEAR(z.pow(3).mean().item<double>(), 0.0, 5 * std::sqrt(15.0) / root_n);
  EXPECT_NEAR(z.pow(4).mean().item<double>(), 3.0, 5 * std::sqrt(96.0) / root_n);
  for (const double t : {2.0, 3.0, 4.0}) {
    const double p = 2 * normal_cdf(-t), seen = (z.abs() > t).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(seen, p, 5 * std::sqrt(p * (1 - p)) / root_n) << "P(|z| > " << t << ")";
  }
  const torch::Tensor sorted = std::get<0>(z.sort());
  const double* s = sorted.data_ptr<double>();
  double ks = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double f = normal_cdf(s[i]);
    ks = std::max({ks, std::abs(f - static_cast<double>(i) / n), std::abs(f - static_cast<double>(i + 1) / n)});
  }
  EXPECT_LT(ks, 1.95 / root_n);
}

TEST(CounterNormal, NeighboursDrawsAndKeysAreUncorrelated) {
  // Sample correlations within 5 / sqrt(n): consecutive indices, the same index under two draws'
  // keys, and under keys one bit apart.
  torch::manual_seed(4);
  const int64_t n = 1 << 20;
  const NormalKey key = NormalKey::draw();
  const auto corr = [&](const torch::Tensor& a, const torch::Tensor& b) {
    const torch::Tensor x = a - a.mean(), y = b - b.mean();
    return ((x * y).mean() / (x.square().mean() * y.square().mean()).sqrt()).item<double>();
  };
  const torch::Tensor z = standard_normal(key, {n + 1}, torch::kDouble);
  const double bound = 5 / std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(corr(z.slice(0, 0, n), z.slice(0, 1, n + 1)), 0.0, bound);
  EXPECT_NEAR(corr(standard_normal(key.for_draw(0), {n}), standard_normal(key.for_draw(1), {n})), 0.0, bound);
  EXPECT_NEAR(corr(standard_normal(key, {n}), standard_normal({key.k0 ^ 1u, key.k1}, {n})), 0.0, bound);
  EXPECT_NEAR(corr(standard_normal(key, {n}), standard_normal({key.k0, key.k1 ^ 1u}, {n})), 0.0, bound);
  EXPECT_NEAR(corr(z.slice(0, 0, n).abs(), z.slice(0, 1, n + 1).abs()), 0.0, bound) << "dependence in magnitudes";
}

TEST(CounterNormal, KeysFollowTheSeed) {
  torch::manual_seed(7);
  const NormalKey a = NormalKey::draw(), b = NormalKey::draw();
  torch::manual_seed(7);
  const NormalKey again = NormalKey::draw();
  EXPECT_EQ(a.k0, again.k0);
  EXPECT_EQ(a.k1, again.k1);
  EXPECT_FALSE(a.k0 == b.k0 && a.k1 == b.k1);
  const NormalKey d0 = a.for_draw(0), d1 = a.for_draw(1);
  EXPECT_NE(d0.k0, d1.k0);
  EXPECT_NE(d0.k1, d1.k1);
}

}  // namespace
}  // namespace elbo
