#include "elbo/model/model.h"

#include "elbo/core/check.h"
#include "elbo/dist/kl.h"

namespace elbo::model {

LatentTerms sample_latent(std::string name, const dist::Distribution& q, const dist::Distribution& p,
                          int64_t particles) {
  LatentTerms g;
  g.name = std::move(name);
  g.z = q.rsample(particles);
  g.log_q = q.log_prob(g.z);
  g.log_p = p.log_prob(g.z);
  if (dist::has_analytic_kl(q, p)) g.kl = dist::kl_elements(q, p).unsqueeze(0);
  g.q_mean = q.mean();
  if (const auto* gaussian = dynamic_cast<const dist::Normal*>(&q)) g.q_log_scale = gaussian->log_scale();
  return g;
}

Terms Model::forward_with(const Batch&, const dist::Normal&, int64_t) {
  ELBO_CHECK(false, name(), " does not support external posteriors (forward_with)");
  return {};
}

Tensor Terms::log_weights() const {
  Tensor w = log_px_z;
  for (const auto& g : latents) w = w + g.log_p - g.log_q;
  return w;
}

Tensor Terms::analytic_kl() const {
  Tensor total;
  for (const auto& g : latents) {
    if (!g.kl.defined()) return {};
    Tensor k = g.kl.sum(-1);
    total = total.defined() ? total + k : k;
  }
  return total;
}

Tensor Terms::monte_carlo_kl() const {
  Tensor total;
  for (const auto& g : latents) {
    Tensor k = g.log_q - g.log_p;
    total = total.defined() ? total + k : k;
  }
  return total;
}

}  // namespace elbo::model
