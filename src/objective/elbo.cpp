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
  ELBO_CHECK(options.classification_weight() >= 0, "objective.alpha must be >= 0 (got ",
             options.classification_weight(), ")");
}

Value beta_elbo(const model::Trace& trace, double beta, bool analytic_kl, double free_bits,
                double classification_weight) {
  Value v;
  v.beta = beta;
  const Tensor reconstruction = trace.log_likelihood().mean(0);  // [B]
  const Tensor kl = trace.kl(analytic_kl).mean(0);               // [B]
  Tensor penalty;
  if (free_bits > 0) {
    ELBO_CHECK(!trace.enumerated() && trace.of_kind(model::SiteKind::global).empty(),
               "objective.free_bits floors the KL of latent sites; this model has enumerated or global sites");
    for (const auto* s : trace.latents())
      ELBO_CHECK(s->kl.defined(), "objective.free_bits needs the analytic KL per dimension of every latent site; '",
                 s->name, "' has none");
    penalty = free_bits_kl(trace.kl_per_dim().mean(0), free_bits);
  } else {
    penalty = kl.mean();
  }
  v.loss = -reconstruction.mean() + beta * penalty;
  if (classification_weight > 0 && trace.enumerated()) {
    const Tensor log_q = trace.observed_label_log_q();  // [B], 0 on unlabelled rows
    v.loss = v.loss - classification_weight * log_q.mean();
    v.metrics.emplace_back("label_log_q", log_q.sum().detach());
  }
  v.reconstruction = reconstruction.detach();
  v.kl = kl.detach();
  v.bound = (reconstruction - kl).detach();
  return v;
}

double Elbo::kl_weight(int64_t step) const {
  return objective::kl_weight(options_.beta(), options_.warmup_steps(), step);
}

Value Elbo::operator()(const model::Trace& trace, int64_t step) const {
  return beta_elbo(trace, kl_weight(step), options_.analytic_kl(), options_.free_bits(),
                   options_.classification_weight());
}

}  // namespace elbo::objective
