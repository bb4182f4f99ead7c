#include "elbo/dist/poisson.h"

#include "detail.h"

namespace elbo::dist {

Poisson::Poisson(Tensor log_rate) : log_rate_(std::move(log_rate)) {
  detail::check_parameter(log_rate_, "elbo::dist::Poisson", "log_rate");
}

Tensor Poisson::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, log_rate_.sizes(), "elbo::dist::Poisson");
  return x * log_rate_ - log_rate_.exp() - torch::lgamma(x + 1);
}

Tensor Poisson::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  return torch::poisson(log_rate_.exp().expand(particle_shape(k)).contiguous());
}

std::vector<int64_t> Poisson::sample_shape() const { return log_rate_.sizes().vec(); }

}  // namespace elbo::dist
