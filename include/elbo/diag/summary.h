#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/diag/collapse.h"
#include "elbo/diag/evidence.h"

#include <string>
#include <vector>

namespace elbo::diag {

/// One latent group's share of a summary (a hierarchical model has one group per layer).
struct GroupSummary {
  std::string name;           ///< model::LatentTerms::name, e.g. "z1"
  int64_t dims = 0;
  double kl = 0;              ///< mean over x of the group's KL term
  int64_t active_units = -1;  ///< active units among its dims; -1 when the model reports no posterior means
};

/// Data-set averages of an evidence estimate, with what follows from them.
struct Summary {
  int64_t examples = 0;
  int64_t k = 0;
  double elbo = 0, reconstruction = 0, kl = 0;
  double log_px = 0;       ///< mean IWAE-K estimate of log p(x)
  double log_px_se = 0;    ///< standard error of that mean (spread over examples and MC error)
  double gap = 0;          ///< mean of log p̂(x) - ELBO ≈ E_x KL(q(z|x) || p(z|x)) (a lower estimate: L_K <= log p(x))
  double gap_se = 0;
  /// Pinsker: TV(q(z|x), p(z|x)) <= sqrt(KL / 2) (and TV <= 1); the mean over x of min(1, sqrt(max(gap_x, 0) / 2)).
  double pinsker_tv = 0;
  double seconds = 0;      ///< time the estimate took
  LatentActivity activity;  ///< active units and KL per dimension (when the model reports them)
  std::vector<GroupSummary> groups;  ///< per latent group, in the model's order (the KLs sum to kl)
};

Summary summarize(const Evidence& evidence, double activity_threshold = 0.01);

/// The summary as a JSON object (KL per dimension and activity as arrays, "groups" as
/// [{"name", "dims", "kl", "active_units"}, ...]).
Json to_json(const Summary& summary);

}  // namespace elbo::diag
