#pragma once
// Tolerances for stochastic tests, set from the Monte Carlo standard error.
#include <torch/types.h>

#include <gtest/gtest.h>

namespace elbo::test {

/// Unbiased sample variance along `dim`: sum (x - mean)^2 / (n - 1).
inline torch::Tensor sample_variance(const torch::Tensor& draws, int64_t dim = 0) {
  return (draws - draws.mean(dim, true)).square().sum(dim) / static_cast<double>(draws.size(dim) - 1);
}

/// Standard error of the mean along `dim`: std / sqrt(n).
inline torch::Tensor standard_error(const torch::Tensor& draws, int64_t dim = 0) {
  return (sample_variance(draws, dim) / static_cast<double>(draws.size(dim))).sqrt();
}

/// Expects |estimate - expected| <= z * se elementwise (plus a tiny floor for se = 0).
inline void expect_within_standard_errors(const torch::Tensor& estimate, const torch::Tensor& expected,
                                          const torch::Tensor& se, double z = 5.0) {
  const torch::Tensor gap = (estimate - expected).abs().to(torch::kDouble);
  const torch::Tensor bound = (z * se + 1e-12).to(torch::kDouble);
  EXPECT_TRUE((gap <= bound).all().item<bool>())
      << "estimate:\n" << estimate << "\nexpected:\n" << expected << "\nstandard error:\n" << se;
}

}  // namespace elbo::test
