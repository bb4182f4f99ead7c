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

Value Iwae::operator()(const model::Trace& trace, int64_t step) const {
  Value v;
  Tensor bound = log_mean_exp(trace.log_weights());
  v.loss = -bound.mean();
  v.bound = bound.detach();
  v.reconstruction = trace.log_likelihood().mean(0).detach();
  v.kl = trace.kl().mean(0).detach();
  return v;
}

}  // namespace elbo::objective
