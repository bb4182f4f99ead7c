#pragma once
#include "elbo/objective/objective.h"

namespace elbo::train {

/// What a hand-written step (FusedVaeStep, FusedMultimodalStep) reports of its last call.
class StepReport {
 public:
  /// The L2 norm of all the gradients the call computed (NaN or Inf if any entry is), computed
  /// as they were written.
  double gradient_norm() const { return gradient_norm_; }
  /// The sums of the per-row bound, reconstruction and KL (in double).
  const objective::MetricSums& metric_sums() const { return metric_sums_; }
  /// Whether the call applied the optimizer's step (and wrote no gradients).
  bool updated() const { return updated_; }

 protected:
  double gradient_norm_ = 0;
  objective::MetricSums metric_sums_;
  bool updated_ = false;
};

}  // namespace elbo::train
