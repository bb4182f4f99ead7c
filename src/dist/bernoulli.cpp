#include "elbo/dist/bernoulli.h"

#include "detail.h"

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
