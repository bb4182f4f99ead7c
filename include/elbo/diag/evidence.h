#pragma once
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <functional>
#include <string>
#include <vector>

namespace elbo::diag {

using torch::Tensor;

/// Settings of the evidence estimate.
struct EvidenceOptions {
  int64_t k = 1000;           ///< importance samples per example
  int64_t batch_size = 100;   ///< examples per pass
  int64_t max_rows = 4096;    ///< particles x examples evaluated at once (cache-sized: fastest measured)
  uint64_t seed = 1;
  /// Called after each batch with (examples done, total).
  std::function<void(int64_t, int64_t)> progress;
};

/// Per-example estimates over a data set.
struct Evidence {
  Tensor log_px;          ///< [N] importance-weighted log p(x) estimate, L_K (Burda et al. 2016)
  Tensor log_px_mc_se;    ///< [N] Monte Carlo standard error of log p̂(x) (delta method over the K weights)
  Tensor elbo;            ///< [N] ELBO, averaged over the same K particles
  Tensor reconstruction;  ///< [N] E_q[log p(x|z)]
  Tensor kl;              ///< [N] KL(q || p) (analytic where available, else Monte Carlo)
  Tensor kl_per_dim;      ///< [N, D] analytic KL per latent dimension (all groups concatenated), if available
  Tensor q_mean;          ///< [N, D] E_q[z] (all groups concatenated), if the model reports it
  std::vector<std::string> groups;  ///< latent group names (model::LatentTerms::name), in the model's order
  std::vector<int64_t> group_dims;  ///< dimensions of each group: the column blocks of kl_per_dim and q_mean
  Tensor group_kl;        ///< [N, G] each group's KL term, on the footing of kl (the columns sum to it)
  int64_t k = 0;
  double seconds = 0;      ///< wall time of the estimate
};

/// Streams K particles through the model in chunks and accumulates the
/// log-weights with a running log-sum-exp, so K = 1000 or more never needs
/// K x N memory: log p̂(x) = log (1/K) sum_k exp(log p(x, z_k) - log q(z_k|x)).
/// L_K is a stochastic lower bound: E[log p̂(x)] <= log p(x), tight as K grows.
Evidence estimate_evidence(model::Model& model, const data::Dataset& data, const EvidenceOptions& options = {});

}  // namespace elbo::diag
