#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"
#include "elbo/objective/objective.h"
#include "elbo/train/checkpoint.h"

#include <torch/optim/adam.h>

#include <atomic>
#include <memory>
#include <string>

namespace elbo::train {

/// Optimizer, loop and bookkeeping settings (the train.* keys of a run config).
struct TrainerOptions {
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double grad_clip = 0.0;  ///< max global gradient norm; 0 = no clipping
  uint64_t seed = 1;
  int64_t log_every = 50;  ///< steps between StepRecords
  std::string checkpoint_path;  ///< "" = no checkpoints
  int64_t checkpoint_every = 0;  ///< also checkpoint every N steps; 0 = only after each epoch
  /// A step whose loss or global gradient norm is NaN/Inf: "stop" throws
  /// std::domain_error naming the step; "skip" drops its update (gradients
  /// zeroed, no optimizer step; the batch counts as done) and stops once more
  /// than max_skipped steps of the run were skipped.
  std::string nonfinite = "stop";
  int64_t max_skipped = 10;
  int64_t inject_nan_step = 0;           ///< testing aid: this step's (1-based) loss is made NaN; 0 = off
  int64_t inject_nan_gradient_step = 0;  ///< testing aid: this step's gradients are made NaN; 0 = off
  CheckpointInfo checkpoint_info;  ///< features, image shape and config stored with each checkpoint

  static TrainerOptions from_config(const Config& config);
};

/// Metrics averaged over the last log_every steps.
struct StepRecord {
  int64_t step = 0;
  int64_t epoch = 0;  ///< 1-based epoch the step belongs to
  double loss = 0, elbo = 0, reconstruction = 0, kl = 0;
  double beta = 0, lr = 0, examples_per_s = 0;
  int64_t skipped = 0;  ///< non-finite steps skipped so far in the run
  std::vector<std::pair<std::string, double>> objective_metrics;  ///< the objective's extras at this step
};

/// Metrics of one finished epoch: training averages and the validation pass.
struct EpochRecord {
  int64_t epoch = 0;  ///< 1-based
  int64_t step = 0;
  double loss = 0, elbo = 0, reconstruction = 0, kl = 0;
  double valid_elbo = 0, valid_reconstruction = 0, valid_kl = 0;  ///< NaN without validation data
  double seconds = 0, examples_per_s = 0;
};

/// How the trainer reports; the library never prints.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_batch(int64_t epoch, int64_t batch, int64_t batches) {}
  virtual void on_step(const StepRecord& record) {}
  virtual void on_epoch(const EpochRecord& record) {}
  virtual void on_checkpoint(const std::string& path, int64_t step) {}
  /// A step with a non-finite loss or gradient was skipped (train.nonfinite = "skip").
  virtual void on_skipped_step(int64_t step, const std::string& reason) {}
};

/// Owns the training loop: Adam, KL schedules (through the objective),
/// validation, atomic checkpoints, metrics and the NaN/Inf guard.
///
/// Every random draw of step s is seeded from (seed, s) and every epoch's
/// order from (seed, epoch), so a run resumed from a checkpoint produces the
/// same numbers as an uninterrupted one on the same machine.
class Trainer {
 public:
  Trainer(std::shared_ptr<model::Model> model, std::shared_ptr<objective::Objective> objective,
          TrainerOptions options);

  /// Restores weights, optimizer state and position from a checkpoint.
  void resume(const std::string& path);

  /// Trains until options.epochs epochs are complete (continuing after a
  /// resume). A non-finite loss stops training with std::domain_error naming
  /// the step; the last checkpoint written stays as it was.
  void fit(const data::Dataset& train, const data::Dataset& validation, Callback* callback = nullptr);

  /// Asks fit() to write a checkpoint and return after the current step
  /// (safe to call from a signal handler).
  void request_stop() { stop_requested_ = true; }
  bool stopped_early() const { return stopped_early_; }

  int64_t step() const { return step_; }
  int64_t epoch() const { return epoch_; }
  /// Steps skipped for a non-finite loss or gradient (kept across resume).
  int64_t skipped_steps() const { return skipped_; }
  torch::optim::Adam& optimizer() { return *optimizer_; }
  /// Writes a checkpoint of the current state now.
  void save(const std::string& path) const;

 private:
  void validate(const data::Dataset& validation, EpochRecord& record) const;
  void checkpoint(Callback* callback);

  std::shared_ptr<model::Model> model_;
  std::shared_ptr<objective::Objective> objective_;
  TrainerOptions options_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  int64_t step_ = 0;
  int64_t epoch_ = 0;           // completed epochs
  int64_t batch_in_epoch_ = 0;  // batches done in the epoch under way
  int64_t skipped_ = 0;         // steps skipped for non-finite values
  bool checkpoint_exists_ = false;  // options_.checkpoint_path holds a checkpoint of this run
  std::atomic<bool> stop_requested_{false};
  bool stopped_early_ = false;
};

}  // namespace elbo::train
