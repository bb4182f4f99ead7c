#pragma once
#include <torch/types.h>

#include <cstdint>

namespace elbo::objective {

/// KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): the KL weight rises
/// linearly from 0 to beta over `warmup_steps` steps: beta * min(1, step / warmup_steps).
double kl_weight(double beta, int64_t warmup_steps, int64_t step);

/// Free bits (Kingma et al. 2016): the KL penalty summed over dimensions, each
/// dimension's batch-mean KL floored at `lambda` nats:
/// sum_d max(lambda, mean_b KL_bd). kl_per_dim is [B, D] (or [K, B, D], averaged over K).
/// The floor passes no gradient, so a dimension below it is free to carry information.
torch::Tensor free_bits_kl(const torch::Tensor& kl_per_dim, double lambda);

}  // namespace elbo::objective
