#include "elbo/nn/mlp_bernoulli_log_prob.h"

#include "elbo/dist/bernoulli_kernel.h"
#include "elbo/nn/mlp_blocks.h"

namespace elbo::nn {

torch::Tensor mlp_bernoulli_log_prob(MlpImpl& mlp, const torch::Tensor& z, const torch::Tensor& x_tensor) {
  const bool fits = mlp_blocks_apply(mlp, z) && z.dim() >= 2 && x_tensor.dim() == 2 &&
                    x_tensor.scalar_type() == torch::kFloat && x_tensor.device().is_cpu() &&
                    !(torch::GradMode::is_enabled() && x_tensor.requires_grad()) &&
                    x_tensor.size(0) == z.size(-2) && x_tensor.size(0) > 0 && x_tensor.size(1) == mlp.options().out();
  if (!fits) return {};
  const torch::Tensor xc = x_tensor.contiguous();
  const int64_t examples = xc.size(0), features = xc.size(1);
  const float* x = xc.data_ptr<float>();
  torch::Tensor out = torch::empty(z.sizes().slice(0, z.dim() - 1), z.options());
  float* log_px = out.data_ptr<float>();
  // Row r of z is a particle of example r mod B.
  mlp_blocks(mlp, z, [&](int64_t r0, int64_t m, const float* logits) {
    for (int64_t r = 0; r < m; ++r)
      dist::bernoulli_log_prob_rows(x + ((r0 + r) % examples) * features, 1, logits + r * features, 1, features,
                                    log_px + r0 + r);
  });
  return out;
}

}  // namespace elbo::nn
