#pragma once
#include "elbo/objective/objective.h"

#include <torch/arg.h>

namespace elbo::objective {

/// The beta-ELBO of a batch with KL weight `beta`: loss = -mean_b E_q[log p(x|z)] + beta * KL
/// (Trace::log_likelihood and Trace::kl: with analytic_kl the closed form for each latent site
/// that has one and log q - log p for the others; with free_bits > 0 each dimension's batch-mean
/// KL is floored, see free_bits_kl), minus classification_weight * mean_b log q(y_b | x_b) over
/// the rows whose enumerated label is observed (M2's classification term, Kingma et al. 2014).
/// Shared by the objectives below.
Value beta_elbo(const model::Trace& trace, double beta, bool analytic_kl, double free_bits = 0.0,
                double classification_weight = 0.0);

/// Options of the (beta-)ELBO.
struct ElboOptions {
  TORCH_ARG(int64_t, particles) = 1;
  /// Analytic KL (when the model provides it) or the Monte Carlo estimate log q - log p.
  TORCH_ARG(bool, analytic_kl) = true;
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(int64_t, warmup_steps) = 0;
  TORCH_ARG(double, free_bits) = 0.0;
  /// Weight of log q(y|x) of each labelled row in the per-example loss (models with an
  /// enumerated label, M2: alpha N / L for alpha N of the paper and L labelled rows).
  TORCH_ARG(double, classification_weight) = 0.0;
};

/// ELBO(x) = E_q[log p(x|z)] - beta KL(q(z|x) || p(z)), estimated with K
/// reparameterized particles (Kingma & Welling 2014); beta-VAE weighting
/// (Higgins et al. 2017), linear KL warm-up and free bits as options.
/// `bound` always reports the true ELBO (beta = 1, no floor).
class Elbo : public Objective {
 public:
  explicit Elbo(const ElboOptions& options = {});
  int64_t particles() const override { return options_.particles(); }
  Value operator()(const model::Trace& trace, int64_t step) const override;
  double kl_weight(int64_t step) const override;
  const ElboOptions& options() const { return options_; }

 private:
  ElboOptions options_;
};

}  // namespace elbo::objective
