#pragma once
#include "elbo/nn/mlp.h"

namespace elbo::nn {

/// log p(x | z) = sum_j x_j l_j - softplus(l_j) with Bernoulli logits l = mlp(z), for
/// every row of z [..., D]; x [B, F] is repeated over the leading axes (row r of z
/// decodes against x[r mod B], the particles of each example), result z.shape[:-1].
/// Without autograd, for the evaluation of many particles (IWAE): mlp_blocks() with the
/// likelihood (dist/bernoulli_kernel.h) taken of each block while it is in cache.
/// An undefined tensor when it does not apply (see mlp_blocks_apply, and x must be
/// [B, F] float32 on the CPU): take the general path then.
torch::Tensor mlp_bernoulli_log_prob(MlpImpl& mlp, const torch::Tensor& z, const torch::Tensor& x);

}  // namespace elbo::nn
