#include "elbo/run/train_run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/device.h"
#include "elbo/core/process_memory.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/data/multimodal.h"
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/run/evaluation.h"
#include "elbo/run/memory_estimate.h"
#include "elbo/run/metrics_log.h"
#include "elbo/run/run_directory.h"
#include "elbo/train/trainer.h"

#include <torch/cuda.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>

namespace elbo::run {
namespace {

train::Trainer* active_trainer = nullptr;

extern "C" void on_signal(int) {
  if (active_trainer) active_trainer->request_stop();
}

/// Routes SIGINT and SIGTERM to `trainer` (a checkpoint, then a clean stop) while it lives.
class StopOnSignals {
 public:
  StopOnSignals(train::Trainer& trainer, bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    active_trainer = &trainer;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
  }
  ~StopOnSignals() {
    if (!enabled_) return;
    active_trainer = nullptr;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  bool enabled_;
};

/// Passes every report on to both callbacks.
class Tee : public train::Callback {
 public:
  Tee(train::Callback& a, train::Callback& b) : a_(a), b_(b) {}
  void on_train_step(const std::string& d) override {
    a_.on_train_step(d);
    b_.on_train_step(d);
  }
  void on_batch(int64_t e, int64_t b, int64_t n) override {
    a_.on_batch(e, b, n);
    b_.on_batch(e, b, n);
  }
  void on_step(const train::StepRecord& r) override {
    a_.on_step(r);
    b_.on_step(r);
  }
  void on_epoch(const train::EpochRecord& r) override {
    a_.on_epoch(r);
    b_.on_epoch(r);
  }
  void on_checkpoint(const std::string& p, int64_t s) override {
    a_.on_checkpoint(p, s);
    b_.on_checkpoint(p, s);
  }
  void on_skipped_step(int64_t s, const std::string& r) override {
    a_.on_skipped_step(s, r);
    b_.on_skipped_step(s, r);
  }

 private:
  train::Callback& a_;
  train::Callback& b_;
};

}  // namespace

Config resumed_config(const Config& given, bool given_explicitly, const std::string& dir, train::CheckpointInfo& info) {
  const std::string ckpt = checkpoint_path(dir);
  ELBO_CHECK(::access(ckpt.c_str(), F_OK) == 0, "--resume: no checkpoint to resume from: '", ckpt,
             "' does not exist (start the run without --resume)");
  info = train::read_checkpoint_info(ckpt);
  ELBO_CHECK(!given_explicitly || info.config_toml == given.to_toml(), "--resume: the config differs from the one stored in '",
             ckpt, "'; resume with the same config (or none: the stored one is used)");
  return Config::from_toml(info.config_toml, ckpt + " (stored config)");
}

int train_run(const Config& config, const std::string& dir, const TrainRunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::shared_ptr<train::Distributed>& dist = o.distributed;
  const bool root = !dist || dist->rank() == 0;  // only rank 0 touches the run directory
  if (root) {
    ensure_writable_dir(dir);
    remove_stale_temporaries(dir);  // left by a run killed while writing its checkpoint
  }
  const std::string ckpt = checkpoint_path(dir), resume_from = o.resume_from.empty() ? ckpt : o.resume_from;
  const train::CheckpointInfo resumed = !o.resume          ? train::CheckpointInfo()
                                        : o.resumed_info ? *o.resumed_info
                                                         : train::read_checkpoint_info(resume_from);
  set_threads(config.get_int("train.threads"), model::uses_convolutions(config));
  c10::Device device = resolve_device(config.get_string("train.device"));
  if (dist && device.is_cuda())  // one GPU per rank on a machine
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(dist->rank() % torch::cuda::device_count()));

  const int64_t baseline = resident_bytes();  // LibTorch and the process before the run's own memory
  data::Splits data = data::load_data(config, /*read_test_file=*/false);  // read after training
  Config stored = config;
  data::record_modalities(stored, data.train.modalities);  // the stored config rebuilds the model without the data
  if (root)
    std::fprintf(stderr, "elbo train: %lld training, %lld validation examples of %lld features from %s\n",
                 static_cast<long long>(data.train.size()), static_cast<long long>(data.validation.size()),
                 static_cast<long long>(data.train.features()), data.train.name.c_str());
  if (root && data.train.rows_dropped + data.validation.rows_dropped + data.test.rows_dropped > 0)
    std::fprintf(stderr, "elbo train: dropped rows with every entry missing: %lld training, %lld validation, %lld test\n",
                 static_cast<long long>(data.train.rows_dropped), static_cast<long long>(data.validation.rows_dropped),
                 static_cast<long long>(data.test.rows_dropped));
  ELBO_CHECK(!o.resume || resumed.features == data.train.features(), "--resume: checkpoint '", ckpt,
             "' was trained on data with ", resumed.features, " features per example, but '", data.train.name,
             "' has ", data.train.features(), " (the data changed since the run started?)");
  // Known before the model, its gradients and optimizer state are allocated.
  const MemoryEstimate memory =
      estimate_training_memory(stored, data::Schema::of(data.train), data_footprint(data, baseline), baseline);
  const AvailableMemory available = available_memory();
  if (stored.get_bool("train.memory_check")) check_memory(memory, available, "elbo train");
  if (root)
    std::fprintf(stderr, "elbo train: memory estimate %s (%s available)\n", format_bytes(memory.total()).c_str(),
                 available.bytes < 0 ? "unknown" : format_bytes(available.bytes).c_str());
  seed_stream(static_cast<uint64_t>(stored.get_int("train.seed")), RngStream::init);
  auto model = model::make_model(stored, data::Schema::of(data.train));
  model->to(device);
  const int64_t labelled = data.train.y_mask.defined() ? data.train.y_mask.sum().item<int64_t>() : 0;
  auto objective = objective::make_objective(stored, data.train.size(), labelled);
  train::TrainerOptions options = train::TrainerOptions::from_config(stored);
  options.checkpoint_path = root ? ckpt : "";
  options.checkpoint_info.image = data.train.image;
  if (dist) {
    dist->start_group(device, stored.get_double("train.dist_timeout"));
    options.distributed = dist;
    if (root)
      std::fprintf(stderr, "elbo train: data-parallel on %d processes, global batch %lld (%lld per process)\n",
                   dist->world_size(), static_cast<long long>(options.batch_size * dist->world_size()),
                   static_cast<long long>(options.batch_size));
  }
  train::Trainer trainer(model, objective, options);
  const std::string metrics = dir + "/metrics.jsonl";
  if (o.resume) {
    trainer.resume(resume_from);
    if (root) {
      truncate_metrics(metrics, trainer.step());
      std::fprintf(stderr, "elbo train: resumed at step %lld (epoch %lld done)\n",
                   static_cast<long long>(trainer.step()), static_cast<long long>(trainer.epoch()));
    }
  } else if (root) {
    std::remove(metrics.c_str());
  }
  if (root) write_file_atomic(dir + "/config.toml", stored.to_toml());

  std::unique_ptr<MetricsLog> log = root ? std::make_unique<MetricsLog>(metrics, options.epochs) : nullptr;
  {
    StopOnSignals stop(trainer, o.stop_on_signals);
    std::unique_ptr<Tee> tee = log && o.progress ? std::make_unique<Tee>(*log, *o.progress) : nullptr;
    trainer.fit(data.train, data.validation, tee ? static_cast<train::Callback*>(tee.get()) : log.get());
  }
  if (trainer.stopped_early()) {
    if (root)
      std::fprintf(stderr, "\nelbo train: interrupted; checkpoint written at step %lld. Continue with: elbo train --out %s "
                   "--resume%s\n", static_cast<long long>(trainer.step()), dir.c_str(),
                   dist ? " (and the same --nproc, or --rank/--world-size/--master)" : "");
    return 130;
  }
  if (!root) return 0;
  write_memory_record(dir + "/memory.json", memory, available, peak_resident_bytes());
  data = data::Splits();  // their memory serves the evaluation below

  model->eval();  // as load_run leaves it: elbo evaluate gives the same numbers
  EvaluationOptions eo;
  eo.progress = true;
  const Evaluation e = evaluate_run(LoadedRun{dir, stored, train::read_checkpoint_info(ckpt), model}, eo);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nelbo train: done in " << std::fixed << std::setprecision(1) << seconds << " s; run directory "
            << dir << "\n"
            << e.table << "  report: " << dir << "/report.html\n";
  return 0;
}

}  // namespace elbo::run
