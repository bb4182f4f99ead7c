#pragma once
#include "elbo/objective/objective.h"

namespace elbo::objective {

/// Total correlation of the aggregate posterior, per example, by minibatch-weighted
/// sampling (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", eq. 5):
/// with the batch's M Gaussian posteriors q(z|x_j) standing in for all N data points,
///   log q(z_i)       ~ logsumexp_j log q(z_i | x_j) - log(N M)
///   log q(z_{i,d})   ~ logsumexp_j log q(z_{i,d} | x_j) - log(N M)
///   TC_i             = log q(z_i) - sum_d log q(z_{i,d})
/// for z_i ~ q(z|x_i). The code is the concatenation of all latent groups, each with a
/// q over [B, D] (Site::q). Returns [K, B]. The estimator is biased (the
/// other N - M points are ignored): for M identical posteriors it gives (D - 1) log N.
Tensor total_correlation(const model::Trace& trace, int64_t dataset_size);

/// beta-TCVAE (Chen et al. 2018) with alpha = gamma = 1: the ELBO's KL split into
/// index-code MI + total correlation + dimension-wise KL, with only the total
/// correlation weighted by beta:  loss = -(ELBO - (beta - 1) TC).
class TcVae : public Objective {
 public:
  /// `dataset_size` N is the training set's size (the estimator's log(N M)).
  TcVae(int64_t particles, double beta, int64_t dataset_size, bool analytic_kl = true);
  int64_t particles() const override { return particles_; }
  Value operator()(const model::Trace& trace, int64_t step) const override;

 private:
  int64_t particles_;
  double beta_;
  int64_t dataset_size_;
  bool analytic_kl_;
};

}  // namespace elbo::objective
