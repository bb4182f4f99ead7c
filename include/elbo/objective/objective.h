#pragma once
#include "elbo/model/model.h"

namespace elbo::objective {

using torch::Tensor;

/// An objective's value on one batch.
struct Value {
  Tensor loss;            ///< scalar to minimize (per-example mean)
  Tensor bound;           ///< [B] the per-example lower bound being optimized (ELBO or IWAE-K), detached
  Tensor reconstruction;  ///< [B] E_q[log p(x|z)], detached
  Tensor kl;              ///< [B] KL(q || p) (analytic where available), detached
  double beta = 1.0;      ///< KL weight in force at this step
};

/// A training objective: a small strategy over a model's Terms.
class Objective {
 public:
  virtual ~Objective() = default;
  /// Particles K the objective needs per example.
  virtual int64_t particles() const = 0;
  /// The value at global training step `step` (schedules depend on it).
  virtual Value operator()(const model::Terms& terms, int64_t step) const = 0;
};

}  // namespace elbo::objective
