#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"
#include "elbo/objective/objective.h"
#include "elbo/train/checkpoint.h"
#include "elbo/train/distributed.h"
#include "elbo/train/train_step.h"
#include "elbo/train/shard.h"

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
  /// Use a faster registered step (the fused MLP-VAE step) where the model and objective fit it;
  /// false = always the autograd step (choose_train_step).
  bool fused = true;
  CheckpointInfo checkpoint_info;  ///< features, image shape and config stored with each checkpoint
  /// Data-parallel group (nullptr = one process). batch_size stays per rank: a
  /// step trains on a global batch of world_size * batch_size (see shard.h).
  std::shared_ptr<Distributed> distributed;

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
  /// The train step fit() chose: "fused" or "autograd (<reason>)" (choose_train_step).
  virtual void on_train_step(const std::string& description) {}
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
///
/// Data-parallel (options.distributed with W > 1 ranks): every rank runs fit()
/// on the same data, configuration and checkpoint. fit() first checks that
/// the ranks agree on data size and position and copies rank 0's parameters
/// to all; each step then trains rank r on its share of the global batch
/// (shard.h) with its rows of the global batch's noise (core/batch_shard.h),
/// and one all-reduce turns the gradients into the gradient of the mean loss
/// over the global batch (weighted by each rank's example count) and sums the
/// metrics, the non-finite check and stop requests, so all ranks take the same
/// decisions. Steps and epochs count global batches. Only rank 0 validates,
/// writes checkpoints and calls the callback. Objectives with state (GECO)
/// are refused.
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
  /// (safe to call from a signal handler). Data-parallel: all ranks stop
  /// together after the first step at which any rank had asked.
  void request_stop() { stop_requested_ = true; }
  bool stopped_early() const { return stopped_early_; }

  int64_t step() const { return step_; }
  int64_t epoch() const { return epoch_; }
  /// Steps skipped for a non-finite loss or gradient (kept across resume).
  int64_t skipped_steps() const { return skipped_; }
  torch::optim::Adam& optimizer() { return *optimizer_; }
  /// The train step the last fit() used: "fused" or "autograd (<reason>)"; "" before fit().
  const std::string& train_step() const { return train_step_; }
  /// Writes a checkpoint of the current state now.
  void save(const std::string& path) const;

 private:
  /// One step's loss and metric sums: over the global batch (all-reduced) when data-parallel.
  struct StepTotals {
    double loss = 0;  ///< mean loss over the step's examples (NaN/Inf if any rank's was)
    objective::MetricSums sums;  ///< over the step's examples
    int64_t examples = 0;
    bool stop = false;  ///< some rank asked to stop (data-parallel)
  };
  void validate(const data::Dataset& validation, EpochRecord& record) const;
  void checkpoint(Callback* callback);
  int rank() const { return options_.distributed ? options_.distributed->rank() : 0; }
  int world_size() const { return options_.distributed ? options_.distributed->world_size() : 1; }
  /// Data-parallel start: the ranks agree on data and position; rank 0's parameters go to all.
  void synchronize_start(int64_t examples, const std::vector<torch::Tensor>& parameters);
  /// Data-parallel step: all-reduces the weighted gradients and the step's sums.
  StepTotals all_reduce_step(const std::vector<torch::Tensor>& parameters, const objective::Value& value,
                             double local_loss, const Shard& shard);

  std::shared_ptr<model::Model> model_;
  std::shared_ptr<objective::Objective> objective_;
  TrainerOptions options_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<TrainStep> step_fn_;  // the step fit() chose (choose_train_step)
  std::string train_step_;             // its description
  int64_t step_ = 0;
  int64_t epoch_ = 0;           // completed epochs
  int64_t batch_in_epoch_ = 0;  // batches done in the epoch under way
  int64_t skipped_ = 0;         // steps skipped for non-finite values
  bool checkpoint_exists_ = false;  // options_.checkpoint_path holds a checkpoint of this run
  std::atomic<bool> stop_requested_{false};
  torch::Tensor reduce_buffer_;  // data-parallel: gradients and step sums, all-reduced in one piece
  bool stopped_early_ = false;
};

}  // namespace elbo::train
