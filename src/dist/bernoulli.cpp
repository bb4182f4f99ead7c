#include "elbo/dist/bernoulli.h"

#include "detail.h"
#include "elbo/dist/bernoulli_kernel.h"

namespace elbo::dist {

Bernoulli::Bernoulli(Tensor logits) : logits_(std::move(logits)) {
  detail::check_parameter(logits_, "elbo::dist::Bernoulli", "logits");
}

Tensor Bernoulli::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, logits_.sizes(), "elbo::dist::Bernoulli");
  if (logits_.scalar_type() == torch::kFloat && x.scalar_type() == torch::kFloat) {
    // One fused kernel (forward and backward) for the training hot path; its
    // log(1 + exp(-|l|)) is exact to float32 precision.
    const auto shape = detail::broadcast_shapes(x.sizes(), logits_.sizes(), "elbo::dist::Bernoulli", "x and logits");
    return -at::binary_cross_entropy_with_logits(logits_.expand(shape), x.expand(shape), {}, {}, at::Reduction::None);
  }
  return x * logits_ - detail::softplus(logits_);
}

Tensor Bernoulli::log_prob_sum(const Tensor& x) const {
  const bool needs_grad = torch::GradMode::is_enabled() && (logits_.requires_grad() || x.requires_grad());
  const int64_t n = logits_.size(-1);
  // x [..., n] repeated over the leading axes of the logits (the particles of each example).
  const bool repeats = x.dim() >= 1 && x.dim() <= logits_.dim() &&
                       x.sizes() == logits_.sizes().slice(logits_.dim() - x.dim()) && x.numel() > 0;
  if (needs_grad || !repeats || logits_.scalar_type() != torch::kFloat || x.scalar_type() != torch::kFloat ||
      !logits_.device().is_cpu() || !x.device().is_cpu())
    return Distribution::log_prob_sum(x);
  const Tensor l = logits_.contiguous(), xc = x.contiguous();
  Tensor out = torch::empty(logits_.sizes().slice(0, logits_.dim() - 1), l.options());
  bernoulli_log_prob_rows(xc.data_ptr<float>(), xc.numel() / n, l.data_ptr<float>(), l.numel() / n, n,
                          out.data_ptr<float>());
  return out;
}

Tensor Bernoulli::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  return torch::bernoulli(logits_.sigmoid().expand(particle_shape(k)));
}

/// H = softplus(l) - sigmoid(l) l.
Tensor Bernoulli::entropy_elements() const {
  return detail::softplus(logits_) - logits_.sigmoid() * logits_;
}

std::vector<int64_t> Bernoulli::sample_shape() const { return logits_.sizes().vec(); }

}  // namespace elbo::dist
