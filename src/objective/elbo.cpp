#include "elbo/objective/elbo.h"

#include "elbo/core/check.h"
#include "elbo/objective/schedules.h"

namespace elbo::objective {

Elbo::Elbo(const ElboOptions& options) : options_(options) {
  ELBO_CHECK(options.particles() >= 1, "objective.particles must be >= 1 (got ", options.particles(), ")");
  ELBO_CHECK(options.beta() >= 0, "objective.beta must be >= 0 (got ", options.beta(), ")");
  ELBO_CHECK(options.free_bits() >= 0, "objective.free_bits must be >= 0 (got ", options.free_bits(), ")");
  ELBO_CHECK(options.free_bits() == 0 || options.analytic_kl(),
             "objective.free_bits needs the analytic KL per dimension (objective.kl = \"analytic\")");
}

Value beta_elbo(const model::Terms& terms, double beta, bool analytic_kl, double free_bits) {
  Value v;
  v.beta = beta;
  Tensor reconstruction = terms.log_px_z.mean(0);  // [B]
  // Analytic KL for every group that has one, log q - log p (Monte Carlo) for the others.
  Tensor kl;
  for (const auto& g : terms.latents) {
    Tensor k = analytic_kl && g.kl.defined() ? g.kl.sum(-1) : g.log_q - g.log_p;
    kl = kl.defined() ? kl + k : k;
  }
  kl = kl.mean(0);  // [B]
  Tensor penalty;
  if (free_bits > 0) {
    Tensor per_dim;
    for (const auto& g : terms.latents) {
      ELBO_CHECK(g.kl.defined(), "objective.free_bits needs the analytic KL per dimension of every latent group; '",
                 g.name, "' has none");
      Tensor d = g.kl.mean(0);  // [B, D]
      per_dim = per_dim.defined() ? torch::cat({per_dim, d}, -1) : d;
    }
    penalty = free_bits_kl(per_dim, free_bits);
  } else {
    penalty = kl.mean();
  }
  v.loss = -reconstruction.mean() + beta * penalty;
  v.reconstruction = reconstruction.detach();
  v.kl = kl.detach();
  v.bound = (reconstruction - kl).detach();
  return v;
}

Value Elbo::operator()(const model::Terms& terms, int64_t step) const {
  return beta_elbo(terms, kl_weight(options_.beta(), options_.warmup_steps(), step), options_.analytic_kl(),
                   options_.free_bits());
}

}  // namespace elbo::objective
