#include "elbo/diag/collapse.h"

#include "elbo/core/check.h"

namespace elbo::diag {

LatentActivity latent_activity(const torch::Tensor& q_mean, const torch::Tensor& kl_per_dim, double threshold) {
  ELBO_CHECK(q_mean.dim() == 2 && q_mean.size(0) >= 2, "latent_activity: expected posterior means [N >= 2, D], got ",
             q_mean.sizes());
  LatentActivity a;
  a.activity = q_mean.to(torch::kDouble).var(0, /*unbiased=*/false);
  a.active_units = (a.activity > threshold).sum().item<int64_t>();
  if (kl_per_dim.defined()) {
    ELBO_CHECK(kl_per_dim.sizes() == q_mean.sizes(), "latent_activity: KL per dimension ", kl_per_dim.sizes(),
               " does not match posterior means ", q_mean.sizes());
    a.kl_per_dim = kl_per_dim.to(torch::kDouble).mean(0);
  }
  return a;
}

}  // namespace elbo::diag
