#pragma once
// metrics.jsonl: one JSON object per line (train_step, startup, step, epoch), written as training
// goes, and kept consistent with the checkpoint on resume.
#include "elbo/core/json_fwd.h"
#include "elbo/train/trainer.h"

#include <chrono>
#include <fstream>
#include <string>

namespace elbo::run {

/// A training callback that appends to metrics.jsonl (non-finite numbers as null) and, on a
/// terminal, draws a progress bar and a line per epoch on stderr.
class MetricsLog : public train::Callback {
 public:
  MetricsLog(const std::string& path, int64_t epochs);

  void on_train_step(const std::string& description) override;
  void on_batch(int64_t epoch, int64_t batch, int64_t batches) override;
  void on_step(const train::StepRecord& r) override;
  void on_checkpoint(const std::string& path, int64_t step) override;
  void on_skipped_step(int64_t step, const std::string& reason) override;
  void on_epoch(const train::EpochRecord& r) override;

 private:
  void write(const Json& line, bool flush = true);

  std::ofstream out_;
  int64_t epochs_;
  bool tty_;
  bool startup_written_ = false;
  double last_loss_ = 0, last_speed_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// The "step" and "epoch" lines of metrics.jsonl (numbers as recorded; dump() writes non-finite ones as null).
Json step_json(const train::StepRecord& r);
Json epoch_json(const train::EpochRecord& r);

/// Keeps metrics.jsonl consistent with a checkpoint at `step`: drops the lines of later steps,
/// and a line cut by a kill mid-write.
void truncate_metrics(const std::string& path, int64_t step);

}  // namespace elbo::run
