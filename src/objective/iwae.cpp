#include "elbo/objective/iwae.h"

#include "elbo/core/check.h"

#include <cmath>

namespace elbo::objective {

torch::Tensor log_mean_exp(const torch::Tensor& log_w) {
  return torch::logsumexp(log_w, 0) - std::log(static_cast<double>(log_w.size(0)));
}

Iwae::Iwae(int64_t particles) : particles_(particles) {
  ELBO_CHECK(particles >= 1, "objective.particles must be >= 1 for IWAE (got ", particles, ")");
}

Value Iwae::operator()(const model::Terms& terms, int64_t step) const {
  Value v;
  Tensor bound = log_mean_exp(terms.log_weights());
  v.loss = -bound.mean();
  v.bound = bound.detach();
  v.reconstruction = terms.log_px_z.mean(0).detach();
  Tensor kl = terms.analytic_kl();
  v.kl = (kl.defined() ? kl.mean(0) : terms.monte_carlo_kl().mean(0)).detach();
  return v;
}

}  // namespace elbo::objective
