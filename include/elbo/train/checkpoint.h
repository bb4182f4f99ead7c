#pragma once
#include "elbo/core/image_shape.h"

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <string>

namespace elbo::train {

/// Everything besides the weights that a checkpoint records.
struct CheckpointInfo {
  int64_t step = 0;             ///< optimizer steps taken
  int64_t epoch = 0;            ///< completed epochs
  int64_t batch_in_epoch = 0;   ///< batches done in the current epoch (mid-epoch checkpoints)
  int64_t skipped = 0;          ///< steps skipped for non-finite values (train.nonfinite = "skip")
  int64_t features = 0;         ///< observed features per example
  ImageShape image{1, 0, 0};    ///< image shape of the data, if images
  std::string config_toml;      ///< the resolved run config
  std::vector<std::pair<std::string, double>> objective_state;  ///< e.g. GECO's multiplier (objective::State)
};

/// Writes weights (and Adam's state, if given) atomically: streamed to a
/// temporary file, fsynced, renamed over `path`. A CRC-32 over every entry
/// (weights, info, config, skip counter, objective and optimizer state) is
/// stored with them (checkpoint format 2). Refuses (std::domain_error) to write
/// non-finite weights.
void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Adam* optimizer,
                     const CheckpointInfo& info);

/// Reads only the info block (after checking the checksum, as load_checkpoint does).
CheckpointInfo read_checkpoint_info(const std::string& path);

/// Restores weights (and Adam's state and learning rate, if given) and returns the info.
/// A checkpoint of a different model is refused naming the first parameter
/// that is missing or has another shape; a truncated or corrupt file (its
/// checksum does not match), or one without a format 2 checksum, is refused
/// naming the path. All throw std::invalid_argument.
CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Adam* optimizer);

}  // namespace elbo::train
