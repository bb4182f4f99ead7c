#include "elbo/objective/schedules.h"

#include "elbo/core/check.h"

#include <algorithm>

namespace elbo::objective {

double kl_weight(double beta, int64_t warmup_steps, int64_t step) {
  ELBO_CHECK(beta >= 0, "objective.beta must be >= 0 (got ", beta, ")");
  ELBO_CHECK(warmup_steps >= 0, "objective.warmup_steps must be >= 0 (got ", warmup_steps, ")");
  if (warmup_steps == 0) return beta;
  return beta * std::min(1.0, static_cast<double>(step) / static_cast<double>(warmup_steps));
}

torch::Tensor free_bits_kl(const torch::Tensor& kl_per_dim, double lambda) {
  ELBO_CHECK(lambda >= 0, "objective.free_bits must be >= 0 (got ", lambda, ")");
  ELBO_CHECK(kl_per_dim.dim() >= 2, "free_bits_kl: expected KL per dimension [B, D] or [K, B, D], got ",
             kl_per_dim.sizes());
  torch::Tensor per_dim = kl_per_dim.reshape({-1, kl_per_dim.size(-1)}).mean(0);
  return torch::clamp_min(per_dim, lambda).sum();
}

}  // namespace elbo::objective
