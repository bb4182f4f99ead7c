#include "elbo/diag/disentanglement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

using elbo::diag::mig;
using elbo::diag::MigOptions;
using ::testing::HasSubstr;

/// Every combination of values 0..sizes[k]-1, one row each: [prod sizes, F] int64.
/// Over the full grid the factors are exactly independent (empirical joint = product of marginals).
torch::Tensor grid(const std::vector<int64_t>& sizes) {
  std::vector<torch::Tensor> axes;
  for (int64_t s : sizes) axes.push_back(torch::arange(s, torch::kLong));
  std::vector<torch::Tensor> mesh = torch::meshgrid(axes, "ij");
  for (auto& m : mesh) m = m.reshape({-1});
  return torch::stack(mesh, 1);
}

TEST(Mig, PerfectlyDisentangledCodeScoresOne) {
  // Factors (4, 6, 16 values) and a nuisance w (5 values) independent of them; the code holds
  // each factor in one dimension (through different monotone maps), w, and a constant, permuted.
  const torch::Tensor g = grid({4, 6, 16, 5}).to(torch::kDouble);
  const torch::Tensor v0 = g.select(1, 0), v1 = g.select(1, 1), v2 = g.select(1, 2), w = g.select(1, 3);
  const torch::Tensor codes = torch::stack({0.3 * w - 1, 3 * v1 - 2, torch::full_like(w, 0.7), torch::exp(v0), -v2}, 1);
  const auto m = mig(codes, g.slice(1, 0, 3).to(torch::kLong));
  EXPECT_NEAR(m.mig, 1.0, 1e-6);
  ASSERT_EQ(m.gaps.size(), 3u);
  const std::vector<int64_t> best = {3, 1, 4};
  const double sizes[] = {4, 6, 16};
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(m.gaps[k], 1.0, 1e-6);
    EXPECT_NEAR(m.entropies[k], std::log(sizes[k]), 1e-12);  // uniform factor
    EXPECT_EQ(m.best_dims[k], best[k]);
    EXPECT_NEAR(m.mutual_information[best[k]][k].item<double>(), std::log(sizes[k]), 1e-9);
  }
  EXPECT_EQ(m.mutual_information.sizes(), (std::vector<int64_t>{5, 3}));
  // Everything off the diagonal carries nothing: I = 0 exactly on the full grid.
  EXPECT_NEAR(m.mutual_information.sum().item<double>(), std::log(4.0) + std::log(6.0) + std::log(16.0), 1e-9);
}

TEST(Mig, CodeIndependentOfTheFactorsScoresAboutZero) {
  // N = 20000 random factors and a Gaussian code drawn independently. The plug-in I(z_d; v_k) of an
  // independent pair is about (B - 1)(V - 1) / (2N) <= 19 * 15 / 40000 = 0.007 nats (Miller-Madow), so
  // every gap, a difference of two such values over H(v_k) >= log 3 = 1.1, is far below 0.05.
  torch::manual_seed(11);
  const int64_t n = 20000;
  const torch::Tensor factors = torch::stack({torch::randint(3, {n}, torch::kLong), torch::randint(6, {n}, torch::kLong),
                                              torch::randint(16, {n}, torch::kLong)}, 1);
  const auto m = mig(torch::randn({n, 6}), factors);
  EXPECT_LT(m.mig, 0.05);
  EXPECT_GE(m.mig, 0.0);
  EXPECT_LT(m.mutual_information.max().item<double>(), 0.02);
}

TEST(Mig, HandComputedGaps) {
  // Factors a, b uniform on 4 values (full grid, 16 rows). z0 and z1 both copy a: the runner-up
  // explains a as well as the best, gap_a = 0. z2 copies b (I = log 4), z3 = floor(b / 2) keeps
  // one bit of it (I = log 2): gap_b = (log 4 - log 2) / log 4 = 1/2. MIG = (0 + 1/2) / 2.
  const torch::Tensor g = grid({4, 4});
  const torch::Tensor a = g.select(1, 0).to(torch::kDouble), b = g.select(1, 1).to(torch::kDouble);
  const torch::Tensor codes = torch::stack({a, 2 * a + 1, b, torch::floor(b / 2)}, 1);
  const auto m = mig(codes, g);
  EXPECT_NEAR(m.gaps[0], 0.0, 1e-12);
  EXPECT_NEAR(m.gaps[1], 0.5, 1e-12);
  EXPECT_NEAR(m.mig, 0.25, 1e-12);
  EXPECT_NEAR(m.mutual_information[3][1].item<double>(), std::log(2.0), 1e-12);
  EXPECT_EQ(m.best_dims[1], 2);
}

TEST(Mig, BinsDecideWhatACodeResolves) {
  // z = v on 16 values: 20 bins tell all 16 apart (I = log 16), 4 bins only 4 groups of 4 (I = log 4).
  const torch::Tensor v = torch::arange(16, torch::kLong).repeat({3}).view({-1, 1});
  const torch::Tensor codes = torch::cat({v.to(torch::kDouble), torch::zeros_like(v, torch::kDouble)}, 1);
  EXPECT_NEAR(mig(codes, v).mutual_information[0][0].item<double>(), std::log(16.0), 1e-12);
  MigOptions four;
  four.bins = 4;
  EXPECT_NEAR(mig(codes, v, four).mutual_information[0][0].item<double>(), std::log(4.0), 1e-12);
  EXPECT_NEAR(mig(codes, v, four).mig, 0.5, 1e-12);
}

TEST(Mig, ConstantFactorIsLeftOutAndBadInputsAreRefused) {
  const torch::Tensor g = grid({3, 1});  // the second factor never varies
  const auto m = mig(g.to(torch::kDouble), g);
  EXPECT_TRUE(std::isnan(m.gaps[1]));
  EXPECT_NEAR(m.mig, 1.0, 1e-12);
  auto error = [](auto f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error([] { mig(torch::zeros({4, 2}), torch::zeros({5, 1}, torch::kLong)); }),
              HasSubstr("must have the same number N >= 2 of rows"));
  EXPECT_THAT(error([] { mig(torch::zeros({4, 2}), torch::zeros({4, 1})); }), HasSubstr("integer [N, F]"));
  EXPECT_THAT(error([] { mig(torch::zeros({4, 2}), torch::zeros({4, 1}, torch::kLong)); }),
              HasSubstr("every factor takes a single value"));
  EXPECT_THAT(error([] { mig(torch::full({4, 2}, NAN), torch::arange(4).view({4, 1})); }), HasSubstr("finite"));
}

}  // namespace
