#pragma once
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"
#include "elbo/objective/objective.h"

#include <torch/optim/adam.h>

#include <memory>
#include <string>

namespace elbo::train {

/// What one training step computed.
struct StepOutput {
  objective::Value value;  ///< the objective's value on the batch (loss, per-example bound, ...)
  /// The step applied the optimizer's update itself (it was given the optimizer); the
  /// parameters' .grad() may then be stale.
  bool updated = false;
  /// The L2 norm of the gradients, when the step computed it on the way (else the trainer does).
  bool has_gradient_norm = false;
  double gradient_norm = 0;
  /// The per-example sums in double, when the step kept them (else the trainer reads them from value).
  bool has_sums = false;
  objective::MetricSums sums;
};

/// One optimizer step's computation for a batch: the loss and every parameter's gradient.
/// The trainer owns the loop, schedules, checks and checkpoints; a step only computes.
class TrainStep {
 public:
  virtual ~TrainStep() = default;
  /// "autograd", "fused", ...: printed and logged as `train step: NAME`.
  virtual std::string name() const = 0;
  /// Sets every parameter's .grad() to the gradient of the objective's loss at global step `step`
  /// for `batch`. With `optimizer` the step may apply the update itself (StepOutput::updated);
  /// the trainer passes it only where nothing else reads or changes the gradients.
  virtual StepOutput operator()(const data::Batch& batch, int64_t step, torch::optim::Adam* optimizer) = 0;
  /// Whether the step reads the batch's labels (the trainer gathers none otherwise).
  virtual bool reads_labels() const { return true; }
  /// Whether the trainer should gather batches with the kernel team (the step's BLAS calls are
  /// single-threaded, so no BLAS thread spins beside the team).
  virtual bool gathers_on_team() const { return false; }
};

/// The generic step: zero_grad, the model's trace, the objective, backward (skipped for a
/// non-finite loss). Works for every model and objective.
class AutogradStep : public TrainStep {
 public:
  AutogradStep(model::Model& model, const objective::Objective& objective, torch::optim::Adam& optimizer);
  std::string name() const override { return "autograd"; }
  StepOutput operator()(const data::Batch& batch, int64_t step, torch::optim::Adam* optimizer) override;

 private:
  model::Model& model_;
  const objective::Objective& objective_;
  torch::optim::Adam& zero_;  // whose gradients are cleared before each backward
};

/// The step chosen for a model, objective and training set, and why.
struct StepChoice {
  std::unique_ptr<TrainStep> step;
  std::string description;  ///< "fused", or "autograd (<why no faster step applies>)"
};

/// The first registered faster step (today: the fused MLP-VAE step, fused_vae_step.h) that
/// supports the configuration, else the autograd step with the reason; `allow_fast = false`
/// (train.fused = false) always gives the autograd step.
StepChoice choose_train_step(model::Model& model, const objective::Objective& objective, const data::Dataset& train,
                             torch::optim::Adam& optimizer, bool allow_fast);

}  // namespace elbo::train
