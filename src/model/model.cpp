#include "elbo/model/model.h"

namespace elbo::model {

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
