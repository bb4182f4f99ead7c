#include "elbo/dist/prior.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "elbo/dist/kl.h"
#include "support/throws.h"

namespace elbo::dist {
namespace {

TEST(Prior, NormalIsZeroMeanWithTheGivenScale) {
  const auto prior = make_prior("normal", 4, 0.5, torch::TensorOptions().dtype(torch::kDouble));
  EXPECT_EQ(prior.sample_shape(), (std::vector<int64_t>{4}));
  EXPECT_EQ(prior.loc().scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::equal(prior.loc(), torch::zeros({4}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(prior.scale(), torch::full({4}, 0.5, torch::kDouble)));
  // The standard prior gives the textbook VAE KL: -1/2 sum(1 + log s^2 - m^2 - s^2).
  const auto std_prior = make_prior("normal", 2, 1.0);
  const Normal q(torch::tensor({0.5, -1.0}), torch::tensor({0.1, -0.4}));
  const auto s2 = (2 * q.log_scale()).exp();
  const auto expected = -0.5 * (1 + s2.log() - q.loc().square() - s2).sum();
  EXPECT_NEAR(kl(q, std_prior).item<float>(), expected.item<float>(), 1e-6);
}

TEST(Prior, RejectsBadScalesNamingPriorScale) {
  for (double scale : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()})
    test::expect_invalid_argument([&] { make_prior("normal", 2, scale); },
                                  {"elbo::dist::make_prior", "prior_scale must be positive"});
  test::expect_invalid_argument([] { make_prior("normal", 0, 1.0); }, {"latent dim must be positive"});
}

TEST(Prior, DiracIsRefusedWithTheSupportMismatchAndTheFix) {
  test::expect_invalid_argument([] { make_prior("dirac", 2, 1.0); },
                                {"infinite", "support mismatch", "prior = \"normal\"", "prior_scale"});
}

TEST(Prior, UnknownKindListsTheValidKinds) {
  test::expect_invalid_argument([] { make_prior("gaussian", 2, 1.0); },
                                {"unknown prior \"gaussian\"", "valid kinds: \"normal\""});
}

}  // namespace
}  // namespace elbo::dist
