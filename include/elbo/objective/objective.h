#pragma once
#include "elbo/model/model.h"

#include <string>
#include <utility>
#include <vector>

namespace elbo::objective {

using torch::Tensor;

/// An objective's value on one batch.
struct Value {
  Tensor loss;            ///< scalar to minimize (per-example mean)
  Tensor bound;           ///< [B] the per-example lower bound being optimized (ELBO or IWAE-K), detached
  Tensor reconstruction;  ///< [B] E_q[log p(x|z)], detached
  Tensor kl;              ///< [B] KL(q || p) (analytic where available), detached
  double beta = 1.0;      ///< KL weight in force at this step
  /// Further detached scalars for the training log (e.g. GECO's multiplier, beta-TCVAE's total correlation).
  std::vector<std::pair<std::string, Tensor>> metrics;
};

/// Sums of a Value's per-example bound, reconstruction and KL over its batch.
struct MetricSums {
  double bound = 0, reconstruction = 0, kl = 0;
};

/// Named numbers an objective carries from step to step (GECO's Lagrange
/// multiplier); the trainer stores them in every checkpoint.
using State = std::vector<std::pair<std::string, double>>;

/// A training objective: a small strategy over a model's trace of sites.
class Objective {
 public:
  virtual ~Objective() = default;
  /// Particles K the objective needs per example.
  virtual int64_t particles() const = 0;
  /// The value at global training step `step` (schedules depend on it).
  /// Evaluating it changes nothing (validation and diagnostics call it too).
  virtual Value operator()(const model::Trace& trace, int64_t step) const = 0;
  /// The weight of the KL term at global step `step` (the objective owns its schedule:
  /// warm-up, beta); 1 for objectives without one.
  virtual double kl_weight(int64_t /*step*/) const { return 1.0; }
  /// Called by the trainer after each applied optimizer step with that step's
  /// value: objectives with state update it here. Default: nothing.
  virtual void after_step(const Value& /*value*/, int64_t /*step*/) {}
  /// The state to checkpoint, and its restoration on resume (same names). Default: none.
  virtual State state() const { return {}; }
  virtual void load_state(const State& /*state*/) {}
};

}  // namespace elbo::objective
