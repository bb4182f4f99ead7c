#pragma once
#include "elbo/data/dataset.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"

#include <string>
#include <vector>

namespace elbo::diag {

using torch::Tensor;

/// Settings of non-amortized (per-example) inference.
struct RefineOptions {
  std::string init = "encoder";  ///< encoder: start from q(z|x) of the encoder | prior: start from N(0, I)
  double lr = 0.05;              ///< Adam step size
  int64_t max_steps = 1000;      ///< hard limit on Adam steps per batch
  int64_t particles = 16;        ///< K reparameterized particles per example and step
  double tol = 1e-3;             ///< an improvement of the mean ELBO by more than tol resets the window
  int64_t window = 50;           ///< a plateau: this many steps without such an improvement
  int64_t lr_decays = 2;         ///< on a plateau, lr drops tenfold this many times; the next plateau stops
  int64_t batch_size = 100;      ///< examples optimized together (each has its own parameters)
  uint64_t seed = 1;
};

/// Refined posteriors q*(z|x_n) for a batch or a data set: the encoder's family (a Normal for
/// the Gaussian encoders) with per-example parameters.
struct Refined {
  std::vector<Tensor> parameters;  ///< q*'s unconstrained parameters, each [N, D] (Normal: loc, log_scale)
  dist::DistributionPtr family;    ///< the encoder's q, whose family they parameterize
  /// Mean ELBO over the examples of each batch at each Adam step (one trace per batch).
  std::vector<std::vector<double>> traces;
  int64_t steps = 0;        ///< most steps any batch took
  bool converged = true;    ///< every batch stopped on the no-improvement window, not on max_steps

  /// q* as a distribution over [N, D].
  dist::DistributionPtr q() const { return family->with_parameters(parameters); }
};

/// Non-amortized variational inference (the EM-like view of VI; Cremer, Li &
/// Duvenaud 2018, "Inference suboptimality in VAEs", the q* of the gaps):
/// each example gets its own parameters of the encoder's family (a diagonal
/// Gaussian's loc and log_scale), initialised from the encoder or at zero (the prior N(0, I)), and Adam maximizes
///   sum_n ELBO_n,  ELBO_n = E_q[log p(x_n|z)] - KL(q_n || p(z))
/// (analytic KL where the model reports one, else the K-sample log-weight
/// average), so each example follows its own gradient while the batch runs
/// together. The model's parameters are not changed (gradients go to q only).
/// A plateau is `window` steps without an improvement of the mean ELBO by more
/// than tol; on each of the first `lr_decays` plateaus the step size drops
/// tenfold (as ReduceLROnPlateau), the next one stops (so does max_steps).
/// The returned parameters are an exponential moving average of the iterates
/// at the final step size (span `window`, Polyak-Ruppert averaging), which
/// removes most of the Monte Carlo jitter of the last iterate.
/// Needs Model::forward_with (the model must accept an external q) and a q that exposes its
/// parameters (Distribution::parameters).
Refined refine(model::Model& model, const data::Batch& batch, const RefineOptions& options = {});

/// refine() over a data set, options.batch_size examples at a time; the parameters are [N, D].
Refined refine(model::Model& model, const data::Dataset& data, const RefineOptions& options = {});

/// The encoder's q(z | x_n) for every example of a data set, `batch_size` at a time: a distribution
/// over [N, D] with its parameters on the CPU (Model::posterior needs a per-example code).
dist::DistributionPtr amortized_posterior(model::Model& model, const data::Dataset& data, int64_t batch_size = 1000);

}  // namespace elbo::diag
