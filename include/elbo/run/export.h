#pragma once
// A run's weights for PyTorch: `elbo export RUN --format state_dict` (docs/CHECKPOINT.md).
#include "elbo/core/json_fwd.h"
#include "elbo/run/run_directory.h"

#include <string>
#include <utility>
#include <vector>

namespace elbo::run {

/// The model's parameters and buffers by their names in the model ("decoder.layer0.weight",
/// "prior_log_scale", ...), in the order named_parameters() then named_buffers() give them,
/// detached and on the CPU.
std::vector<std::pair<std::string, torch::Tensor>> state_dict(const LoadedRun& run);

/// What rebuilding the model needs, as JSON: "format" ("elbo-state-dict-1"), "model" (describe()),
/// "features", "image" ([C, H, W]; [1, 0, 0] when not images), "step", "epoch", "config" (every key,
/// nested by section: config["model"]["hidden"]; a table array as a list of objects) and "tensors"
/// (name -> {"shape", "dtype"}).
Json export_metadata(const LoadedRun& run);

/// Where the JSON of an export to `path` goes: `path` with its extension replaced by ".json"
/// ("model.pt" -> "model.json"; "model" -> "model.json").
std::string export_metadata_path(const std::string& path);

/// Writes state_dict(run) to `path` as torch.save would write a dict of tensors (torch.load reads it
/// into a plain dict[str, Tensor]) and export_metadata(run) to export_metadata_path(path), both
/// atomically. Refuses a `path` ending in ".json" (its metadata would overwrite it).
void export_state_dict(const LoadedRun& run, const std::string& path);

}  // namespace elbo::run
