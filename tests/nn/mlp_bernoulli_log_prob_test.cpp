#include "elbo/dist/bernoulli.h"
#include "elbo/nn/dense_kernels.h"
#include "elbo/nn/mlp_bernoulli_log_prob.h"
#include "elbo/nn/mlp_blocks.h"

#include <gtest/gtest.h>

using namespace elbo;

namespace {

/// The general path: LibTorch's linear and relu, and Bernoulli::log_prob.
torch::Tensor logits_by_libtorch(nn::MlpImpl& mlp, const torch::Tensor& z) {
  torch::Tensor h = z;
  for (size_t i = 0; i < mlp.layers().size(); ++i) {
    h = torch::linear(h, mlp.layers()[i]->weight, mlp.layers()[i]->bias);
    if (i + 1 < mlp.layers().size()) h = torch::relu(h);
  }
  return h;
}

}  // namespace

TEST(MlpBernoulliLogProb, SameAsTheGeneralPathForManyParticles) {
  ASSERT_TRUE(nn::have_sgemm()) << "built without a BLAS: the hand-written kernels cannot be tested";
  torch::manual_seed(2);
  nn::Mlp mlp(nn::MlpOptions(5, 9).hidden({16, 11}));
  const torch::Tensor x = torch::rand({7, 9});
  torch::NoGradGuard no_grad;
  // 1 particle (one block), and 60 particles of 7 examples: 420 rows in several blocks,
  // the blocks shared between threads, block edges in the middle of an example's particles.
  for (const int64_t particles : {1, 60}) {
    const torch::Tensor z = torch::randn({particles, 7, 5}) * 2;
    const torch::Tensor fused = nn::mlp_bernoulli_log_prob(*mlp, z, x);
    ASSERT_TRUE(fused.defined());
    const torch::Tensor ref = dist::Bernoulli(logits_by_libtorch(*mlp, z)).log_prob(x);
    ASSERT_EQ(fused.sizes(), ref.sizes());
    EXPECT_LT(((fused - ref).abs() / ref.abs()).max().item<double>(), 1e-5) << particles << " particles";
  }
}

TEST(MlpBlocks, ForwardWithoutGradientIsTheLibTorchForward) {
  ASSERT_TRUE(nn::have_sgemm()) << "built without a BLAS: the hand-written kernels cannot be tested";
  torch::manual_seed(4);
  nn::Mlp mlp(nn::MlpOptions(6, 10).hidden({32}));
  const torch::Tensor x = torch::randn({3, 150, 6});  // 450 rows: blocks on every thread
  const torch::Tensor with_grad = mlp->forward(x);    // parameters require gradients: LibTorch's ops
  ASSERT_TRUE(with_grad.requires_grad());
  torch::NoGradGuard no_grad;
  ASSERT_TRUE(nn::mlp_blocks_apply(*mlp, x));
  const torch::Tensor blocked = mlp->forward(x);
  ASSERT_EQ(blocked.sizes(), with_grad.sizes());
  EXPECT_LT((blocked - with_grad).abs().max().item<double>(), 1e-5 * with_grad.abs().max().item<double>());
  EXPECT_TRUE(torch::allclose(blocked, logits_by_libtorch(*mlp, x), 1e-5, 1e-6));
}

TEST(MlpBernoulliLogProb, LeavesWhatItDoesNotImplementToTheGeneralPath) {
  torch::manual_seed(3);
  nn::Mlp mlp(nn::MlpOptions(5, 9).hidden({16}));
  nn::Mlp tanh_mlp(nn::MlpOptions(5, 9).hidden({16}).activation(nn::Activation::tanh));
  const torch::Tensor z = torch::randn({3, 4, 5}), x = torch::rand({4, 9});
  EXPECT_FALSE(nn::mlp_bernoulli_log_prob(*mlp, z, x).defined());  // gradients wanted (parameters require them)
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(nn::mlp_bernoulli_log_prob(*tanh_mlp, z, x).defined());
  EXPECT_FALSE(nn::mlp_bernoulli_log_prob(*mlp, z.to(torch::kDouble), x).defined());
  EXPECT_FALSE(nn::mlp_bernoulli_log_prob(*mlp, z, torch::rand({3, 9})).defined());  // x is not z's examples
}
