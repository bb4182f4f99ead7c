#pragma once
#include <torch/types.h>

namespace elbo::diag {

/// Activity of each latent dimension (Burda et al. 2016): unit i is active
/// when A_i = Var_x(E_q[z_i | x]) > threshold (0.01 by default).
struct LatentActivity {
  torch::Tensor activity;    ///< [D] Var_x(E_q[z_i|x])
  torch::Tensor kl_per_dim;  ///< [D] mean over x of KL(q(z_i|x) || p(z_i)), if given
  int64_t active_units = 0;
};

/// From the posterior means [N, D] and optionally the per-dimension KL [N, D].
LatentActivity latent_activity(const torch::Tensor& q_mean, const torch::Tensor& kl_per_dim = {},
                               double threshold = 0.01);

}  // namespace elbo::diag
