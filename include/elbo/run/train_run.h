#pragma once
// A whole run as elbo train does it: train (or resume), checkpoint, evaluate, report.
#include "elbo/core/config.h"
#include "elbo/train/checkpoint.h"
#include "elbo/train/distributed.h"

#include <memory>
#include <optional>
#include <string>

namespace elbo::train {
class Callback;
}  // namespace elbo::train

namespace elbo::run {

struct TrainRunOptions {
  bool resume = false;          ///< continue from `resume_from` (default RUN/checkpoint.pt) with its stored config
  std::string resume_from;      ///< the checkpoint to resume (a data-parallel rank > 0 gets a copy of rank 0's)
  /// Its info block when the caller has read it already (resumed_config), so the file is not opened
  /// and checksummed once more; empty: read here.
  std::optional<train::CheckpointInfo> resumed_info;
  std::shared_ptr<train::Distributed> distributed;  ///< one rank of a data-parallel run (rank 0 writes the run)
  bool stop_on_signals = false; ///< SIGINT/SIGTERM checkpoint and stop the run (exit status 130)
  train::Callback* progress = nullptr;  ///< also told of each batch, step and epoch (rank 0; e.g. the Python module's callback)
};

/// Trains `config` into run directory `dir`: config.toml, checkpoint.pt (atomic, periodic),
/// metrics.jsonl; then evaluates it (run::evaluate_run with eval.k, eval.n) and writes
/// evaluation.json, the pictures and report.html, printing the summary table on stdout.
/// Returns 0, or 130 when stopped by a signal (the checkpoint lets `resume` continue exactly).
int train_run(const Config& config, const std::string& dir, const TrainRunOptions& options = {});

/// The config of a resumed run: the one stored in `dir`'s checkpoint, after checking that
/// `given` (if `given_explicitly`: a config file or --set on the command line) is the same.
/// `info` receives the checkpoint's info block.
Config resumed_config(const Config& given, bool given_explicitly, const std::string& dir, train::CheckpointInfo& info);

}  // namespace elbo::run
