#include "elbo/dist/dirac.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/throws.h"

namespace elbo::dist {
namespace {

TEST(Dirac, LogProbIsZeroAtTheValueAndMinusInfinityElsewhere) {
  const Dirac d(torch::tensor({1.0, 2.0}));
  const auto el = d.log_prob_elements(torch::tensor({{1.0, 2.0}, {1.0, 2.5}}));
  EXPECT_EQ(el[0][0].item<float>(), 0.0f);
  EXPECT_EQ(el[0][1].item<float>(), 0.0f);
  EXPECT_EQ(el[1][1].item<float>(), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(d.log_prob(torch::tensor({1.0, 2.5}), torch::tensor({1.0, 0.0})).item<float>(), 0.0f);
}

TEST(Dirac, SampleRepeatsTheValue) {
  const Dirac d(torch::tensor({1.0, 2.0}));
  const auto z = d.sample(3);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({3, 2}));
  EXPECT_TRUE(torch::equal(z, torch::tensor({1.0, 2.0}).expand({3, 2})));
  EXPECT_TRUE(torch::equal(d.mean(), torch::tensor({1.0, 2.0})));
}

TEST(Dirac, RefusesRsampleAndEntropy) {
  const Dirac d(torch::zeros({2}));
  test::expect_invalid_argument([&] { d.rsample(); }, {"elbo::dist::Dirac", "is not reparameterizable"});
  test::expect_invalid_argument([&] { d.entropy(); }, {"Dirac has no closed-form entropy"});
}

}  // namespace
}  // namespace elbo::dist
