#include "elbo/diag/mutation_effects.h"
#include "elbo/model/vae.h"
#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo {
namespace {

model::Vae sequence_vae() {
  torch::manual_seed(0);
  model::VaeOptions o;
  o.features = 12;
  o.latent_dim = 2;
  o.encoder = o.decoder = "conv1d";
  o.channels = {8};
  o.kernel = 3;
  o.likelihood = "categorical";
  o.context = 2;
  o.context_hidden = 8;
  model::Vae vae(o);
  vae->eval();
  return vae;
}

/// The ELBO of one sequence with the generator seeded as mutation_effects seeds it.
double elbo_of(model::Model& m, const torch::Tensor& x, const torch::Tensor& mask, int64_t particles, uint64_t seed) {
  torch::NoGradGuard no_grad;
  data::Batch b{x.unsqueeze(0)};
  if (mask.defined()) b.mask = mask.unsqueeze(0);
  torch::manual_seed(seed);
  const model::Trace t = m.forward(b, particles);
  return (t.log_likelihood() - t.kl()).mean().item<double>();
}

TEST(MutationEffects, EachEntryIsTheElboChangeOfItsSubstitution) {
  model::Vae vae = sequence_vae();
  const torch::Tensor x = torch::tensor({0, 3, 2, 2, 1, 0, 0, 3, 1, 2, 3, 0}, torch::kFloat);
  const torch::Tensor delta = diag::mutation_effects(*vae, x, {}, 4, 8, 7);
  ASSERT_EQ(delta.sizes(), (std::vector<int64_t>{12, 4}));
  const double reference = elbo_of(*vae, x, {}, 8, 7);
  for (const auto& [i, c] : {std::pair{0, 2}, std::pair{5, 1}, std::pair{11, 3}, std::pair{7, 0}}) {
    torch::Tensor variant = x.clone();
    variant[i] = c;
    EXPECT_NEAR(delta[i][c].item<double>(), elbo_of(*vae, variant, {}, 8, 7) - reference, 1e-4) << i << ", " << c;
    EXPECT_NE(delta[i][c].item<double>(), 0.0);
  }
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(delta[i][x[i].item<int64_t>()].item<double>(), 0.0);
}

TEST(MutationEffects, UnknownPositionsHaveNoEffectRow) {
  model::Vae vae = sequence_vae();
  const torch::Tensor x = torch::zeros({12});
  torch::Tensor mask = torch::ones({12});
  mask[4] = 0;
  const torch::Tensor delta = diag::mutation_effects(*vae, x, mask, 4, 4, 1);
  EXPECT_TRUE(delta[4].eq(0).all().item<bool>());
  EXPECT_FALSE(delta[5].eq(0).all().item<bool>());
}

TEST(Auroc, IsTheProbabilityThatAPositiveOutscoresANegative) {
  const torch::Tensor labels = torch::tensor({1, 1, 0, 0, 0});
  EXPECT_DOUBLE_EQ(diag::auroc(torch::tensor({5., 4., 3., 2., 1.}), labels), 1.0);
  EXPECT_DOUBLE_EQ(diag::auroc(torch::tensor({1., 2., 3., 4., 5.}), labels), 0.0);
  // Pairs (p, n): 4 > {3, 1}, 4 = 4 (half), 2 > 1, 2 < 3, 2 < 4: (2 + 0.5 + 1) / 6.
  EXPECT_DOUBLE_EQ(diag::auroc(torch::tensor({4., 2., 3., 4., 1.}), labels), 3.5 / 6);
  test::expect_invalid_argument([] { diag::auroc(torch::ones({3}), torch::ones({3})); }, {"one negative"});
}

}  // namespace
}  // namespace elbo
