#include "elbo/objective/tcvae.h"

#include "elbo/core/check.h"
#include "elbo/dist/normal.h"
#include "elbo/objective/elbo.h"

#include <cmath>

namespace elbo::objective {

Tensor total_correlation(const model::Trace& trace, int64_t dataset_size) {
  ELBO_CHECK(dataset_size >= 1, "total_correlation: the data set size must be >= 1 (got ", dataset_size, ")");
  ELBO_CHECK(!trace.enumerated(), "beta-TCVAE needs a model without enumerated sites");
  std::vector<Tensor> pairs;  // [K, B, B, D_s]: log q(z_{k,i,d} | x_j)
  for (const auto* s : trace.latents()) {
    ELBO_CHECK(s->q, "beta-TCVAE needs q over [B, D] of every latent site (the encoder's); '", s->name, "' has none");
    pairs.push_back(s->q->log_prob_elements(s->value.unsqueeze(-2)));  // q [B, D] against z [K, B, 1, D]
  }
  ELBO_CHECK(!pairs.empty(), "beta-TCVAE needs a model with per-example latent sites");
  const Tensor log_q_pairs = pairs.size() == 1 ? pairs[0] : torch::cat(pairs, -1);
  const double log_nm = std::log(static_cast<double>(dataset_size) * static_cast<double>(log_q_pairs.size(1)));
  const Tensor log_q_joint = torch::logsumexp(log_q_pairs.sum(-1), -1) - log_nm;                 // [K, B]
  const Tensor log_q_marginals = (torch::logsumexp(log_q_pairs, -2) - log_nm).sum(-1);       // [K, B]
  return log_q_joint - log_q_marginals;
}

TcVae::TcVae(int64_t particles, double beta, int64_t dataset_size, bool analytic_kl)
    : particles_(particles), beta_(beta), dataset_size_(dataset_size), analytic_kl_(analytic_kl) {
  ELBO_CHECK(particles >= 1, "objective.particles must be >= 1 (got ", particles, ")");
  ELBO_CHECK(beta >= 0, "objective.beta must be >= 0 (got ", beta, ")");
  ELBO_CHECK(dataset_size >= 1, "objective.type = \"tcvae\" needs the training set size (got ", dataset_size, ")");
}

Value TcVae::operator()(const model::Trace& trace, int64_t) const {
  Value v = beta_elbo(trace, 1.0, analytic_kl_);
  const Tensor tc = total_correlation(trace, dataset_size_).mean(0);  // [B]
  v.loss = v.loss + (beta_ - 1.0) * tc.mean();
  v.metrics = {{"total_correlation", tc.mean().detach()}};
  return v;
}

}  // namespace elbo::objective
