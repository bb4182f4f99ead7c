#include "elbo/dist/negative_binomial.h"

#include "detail.h"

namespace elbo::dist {

NegativeBinomial::NegativeBinomial(Tensor log_mean, Tensor log_concentration)
    : log_mean_(std::move(log_mean)), log_concentration_(std::move(log_concentration)) {
  detail::broadcast_loc_scale(log_mean_, log_concentration_, "elbo::dist::NegativeBinomial");
}

Tensor NegativeBinomial::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, log_mean_.sizes(), "elbo::dist::NegativeBinomial");
  const Tensor r = log_concentration_.exp();
  return torch::lgamma(x + r) - torch::lgamma(r) - torch::lgamma(x + 1) -
         r * detail::softplus(log_mean_ - log_concentration_) - x * detail::softplus(log_concentration_ - log_mean_);
}

Tensor NegativeBinomial::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  const auto shape = particle_shape(k);
  const Tensor r = log_concentration_.exp().expand(shape).contiguous();
  const Tensor rate = at::_standard_gamma(r) * (log_mean_ - log_concentration_).exp().expand(shape);
  return torch::poisson(rate);
}

std::vector<int64_t> NegativeBinomial::sample_shape() const { return log_mean_.sizes().vec(); }

}  // namespace elbo::dist
