#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <string>

namespace elbo::diag {

using torch::Tensor;

/// Settings of multiple imputation by sampling importance resampling.
struct ImputationOptions {
  int64_t particles = 1000;        ///< importance samples K of z ~ q(z | x_obs) per example
  int64_t draws = 100;             ///< imputations M per example, resampled from the K
  int64_t batch_size = 100;        ///< most examples per pass
  int64_t max_elements = 1 << 24;  ///< most K x examples x features held at once (fewer examples per pass)
  uint64_t seed = 1;
  /// Each imputation is E[x_mis | z] of its resampled code instead of a draw x_mis ~ p(x_mis | z)
  /// (pictures of models whose p(x|z) is noisy per pixel, e.g. Bernoulli).
  bool code_means = false;
};

/// Multiple imputations of a data set's missing entries (mask 0).
struct Imputation {
  Tensor draws;  ///< [M, N, D] completed copies: observed entries as given, missing ones drawn
  Tensor mean;   ///< [N, D] observed entries as given, missing ones E[x_mis | x_obs] ~ sum_k w_k E[x | z_k]
  Tensor effective_sample_size;  ///< [N] 1 / sum_k w_k^2 of the self-normalized weights (Kish)
  /// [N] log p^(x_hid | x_obs) = log sum_k w_k p(x_hid | z_k) of the true values of the entries
  /// hidden by data.missing (Dataset::hidden; 0 for a row with none), undefined without hidden entries.
  Tensor hidden_log_likelihood;
};

/// Multiple imputation by sampling importance resampling (Rubin 1987; Mattei & Frellsen 2019,
/// section 4): per example z_1..z_K ~ q(z | x_obs), self-normalized weights
/// w_k ∝ p(x_obs | z_k) p(z_k) / q(z_k | x_obs) (Trace::log_weights over the observed sites),
/// M indices drawn from Categorical(w) with replacement, and x_mis ~ p(x_mis | z) for each.
/// As K grows the draws tend to p(x_mis | x_obs) of the model. The model needs a per-example
/// code decoded by likelihood(z) (the trace's latent sites concatenated) and no enumerated site.
/// Deterministic in options.seed.
Imputation impute(model::Model& model, const data::Dataset& data, const ImputationOptions& options = {});

/// How well imputations recover the true values of the entries data.missing hid.
struct ImputationScores {
  int64_t examples = 0, hidden = 0;  ///< rows scored and hidden entries among them
  int64_t particles = 0, draws = 0;
  double rmse = 0;            ///< sqrt(mean over hidden entries of (imputed mean - truth)^2), in the data's units
  double coverage50 = 0;      ///< fraction of hidden values within the draws' 25-75% quantiles
  double coverage90 = 0;      ///< fraction within the 5-95% quantiles
  double log_likelihood = 0;  ///< sum over rows of log p^(x_hid | x_obs) / hidden: nats per hidden entry
  double effective_sample_size = 0;  ///< mean over rows of 1 / sum_k w_k^2
};

/// Imputes `data` (which needs hidden entries, Dataset::hidden) a pass at a time, scoring
/// as it goes, so the draws of a large data set are never held at once.
ImputationScores score_imputation(model::Model& model, const data::Dataset& data,
                                  const ImputationOptions& options = {});

/// {"examples": .., "hidden": .., "rmse": .., "coverage50": .., ...}; non-finite numbers as null.
Json to_json(const ImputationScores& s);

}  // namespace elbo::diag
