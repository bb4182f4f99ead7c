// elbo train [CONFIG.toml] [--set key=value ...] [--out DIR] [--resume]
#include "commands.h"
#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/device.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

train::Trainer* active_trainer = nullptr;

extern "C" void on_signal(int) {
  if (active_trainer) active_trainer->request_stop();
}

/// A JSON number, or null for NaN/Inf (which JSON cannot represent).
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream out;
  out << std::setprecision(8) << v;
  return out.str();
}

/// Appends metrics to metrics.jsonl and shows progress on the terminal.
class Reporter : public train::Callback {
 public:
  Reporter(const std::string& metrics_path, int64_t epochs)
      : out_(metrics_path, std::ios::app), epochs_(epochs), tty_(::isatty(STDERR_FILENO)) {
    ELBO_CHECK(out_, "cannot append to '", metrics_path, "'");
  }

  void on_batch(int64_t epoch, int64_t batch, int64_t batches) override {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (batch != batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 30;
    const int filled = static_cast<int>(width * batch / batches);
    std::fprintf(stderr, "\r  epoch %lld/%lld [%s%s] %3d%%  loss %.2f  %.0f ex/s ", static_cast<long long>(epoch),
                 static_cast<long long>(epochs_), std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<int>(100 * batch / batches), last_loss_, last_speed_);
    std::fflush(stderr);
  }

  void on_step(const train::StepRecord& r) override {
    last_loss_ = r.loss;
    last_speed_ = r.examples_per_s;
    out_ << "{\"type\": \"step\", \"step\": " << r.step << ", \"epoch\": " << r.epoch << ", \"loss\": "
         << json_number(r.loss) << ", \"elbo\": " << json_number(r.elbo) << ", \"reconstruction\": "
         << json_number(r.reconstruction) << ", \"kl\": " << json_number(r.kl) << ", \"beta\": " << json_number(r.beta)
         << ", \"lr\": " << json_number(r.lr) << ", \"examples_per_s\": " << json_number(r.examples_per_s)
         << ", \"skipped\": " << r.skipped;
    for (const auto& [name, value] : r.objective_metrics) out_ << ", \"" << name << "\": " << json_number(value);
    out_ << "}\n";
  }

  // The metrics up to a checkpoint reach the disk with it (a killed run resumes from there).
  void on_checkpoint(const std::string&, int64_t) override { out_.flush(); }

  void on_skipped_step(int64_t, const std::string& reason) override {
    if (tty_) std::fprintf(stderr, "\r%100s\r", "");
    std::fprintf(stderr, "elbo train: warning: %s; step skipped (train.nonfinite = \"skip\")\n", reason.c_str());
  }

  void on_epoch(const train::EpochRecord& r) override {
    out_ << "{\"type\": \"epoch\", \"step\": " << r.step << ", \"epoch\": " << r.epoch << ", \"loss\": "
         << json_number(r.loss) << ", \"elbo\": " << json_number(r.elbo) << ", \"reconstruction\": "
         << json_number(r.reconstruction) << ", \"kl\": " << json_number(r.kl) << ", \"valid_elbo\": "
         << json_number(r.valid_elbo) << ", \"valid_reconstruction\": " << json_number(r.valid_reconstruction)
         << ", \"valid_kl\": " << json_number(r.valid_kl) << ", \"seconds\": " << json_number(r.seconds)
         << ", \"examples_per_s\": " << json_number(r.examples_per_s) << "}\n";
    out_.flush();
    if (tty_) std::fprintf(stderr, "\r%100s\r", "");
    char valid[64] = "";
    if (std::isfinite(r.valid_elbo)) std::snprintf(valid, sizeof valid, "  valid ELBO %.2f", r.valid_elbo);
    std::fprintf(stderr, "  epoch %lld/%lld  train ELBO %.2f (rec %.2f, KL %.2f)%s  %.1f s  %.0f ex/s\n",
                 static_cast<long long>(r.epoch), static_cast<long long>(epochs_), r.elbo, r.reconstruction, r.kl,
                 valid, r.seconds, r.examples_per_s);
  }

 private:
  std::ofstream out_;
  int64_t epochs_;
  bool tty_;
  double last_loss_ = 0, last_speed_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// Keeps metrics.jsonl consistent with the checkpoint: drops lines of steps after it.
void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    const auto pos = line.find("\"step\": ");
    if (pos != std::string::npos && std::stoll(line.substr(pos + 8)) > step) continue;
    kept << line << "\n";
  }
  write_file_atomic(path, kept.str());
}

}  // namespace

Action add_train(CLI::App& app) {
  struct Args {
    std::string config_path, out = "runs/default";
    std::vector<std::string> sets;
    bool resume = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "TOML run config (default: the built-in MLP VAE on Fashion-MNIST)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", args->sets, "override a config key, e.g. --set train.epochs=3 (repeatable)");
  app.add_option("--out", args->out, "run directory to write")->capture_default_str();
  app.add_flag("--resume", args->resume, "continue from RUN/checkpoint.pt (same config)");
  app.footer("Run 'elbo config' for every key. The run directory gets config.toml, checkpoint.pt, metrics.jsonl,\n"
             "samples.png, reconstructions.png, interpolation.png, curves.svg, evaluation.json and report.html.");
  return [args]() -> int {
    Config config = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
    for (const auto& s : args->sets) config.set(s);
    const std::string ckpt = checkpoint_path(args->out);
    train::CheckpointInfo resumed_info;
    if (args->resume) {
      ELBO_CHECK(::access(ckpt.c_str(), F_OK) == 0, "--resume: no checkpoint to resume from: '", ckpt,
                 "' does not exist (start the run without --resume)");
      const train::CheckpointInfo info = train::read_checkpoint_info(ckpt);
      resumed_info = info;
      const bool given = !args->config_path.empty() || !args->sets.empty();
      ELBO_CHECK(!given || info.config_toml == config.to_toml(),
                 "--resume: the config differs from the one stored in '", ckpt,
                 "'; resume with the same config (or none: the stored one is used)");
      config = Config::from_toml(info.config_toml, ckpt + " (stored config)");
    }
    return train_run(config, args->out, args->resume ? &resumed_info : nullptr);
  };
}

int train_run(const Config& config, const std::string& dir, const train::CheckpointInfo* resumed) {
  const auto start = std::chrono::steady_clock::now();
  const bool resume = resumed != nullptr;
  ensure_writable_dir(dir);
  remove_stale_temporaries(dir);  // left by a run killed while writing its checkpoint
  const std::string ckpt = checkpoint_path(dir);
  set_threads(config.get_int("train.threads"));
  const c10::Device device = resolve_device(config.get_string("train.device"));

  data::Splits data = data::load_data(config);
  std::fprintf(stderr, "elbo train: %lld training, %lld validation, %lld test examples of %lld features from %s\n",
               static_cast<long long>(data.train.size()), static_cast<long long>(data.validation.size()),
               static_cast<long long>(data.test.size()), static_cast<long long>(data.train.features()),
               data.train.name.c_str());
  ELBO_CHECK(!resume || resumed->features == data.train.features(), "--resume: checkpoint '", ckpt,
             "' was trained on data with ", resumed->features, " features per example, but '", data.train.name,
             "' has ", data.train.features(), " (the data changed since the run started?)");
  seed_stream(static_cast<uint64_t>(config.get_int("train.seed")), RngStream::init);
  auto model = model::make_model(config, data.train.features(), data.train.image);
  model->to(device);
  auto objective = objective::make_objective(config, data.train.size());
  train::TrainerOptions options = train::TrainerOptions::from_config(config);
  options.checkpoint_path = ckpt;
  options.checkpoint_info.image = data.train.image;
  train::Trainer trainer(model, objective, options);
  const std::string metrics = dir + "/metrics.jsonl";
  if (resume) {
    trainer.resume(ckpt);
    truncate_metrics(metrics, trainer.step());
    std::fprintf(stderr, "elbo train: resumed at step %lld (epoch %lld done)\n", static_cast<long long>(trainer.step()),
                 static_cast<long long>(trainer.epoch()));
  } else {
    std::remove(metrics.c_str());
  }
  write_file_atomic(dir + "/config.toml", config.to_toml());

  Reporter reporter(metrics, options.epochs);
  active_trainer = &trainer;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  trainer.fit(data.train, data.validation, &reporter);
  active_trainer = nullptr;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (trainer.stopped_early()) {
    std::fprintf(stderr, "\nelbo train: interrupted; checkpoint written at step %lld. Continue with: elbo train --out %s --resume\n",
                 static_cast<long long>(trainer.step()), dir.c_str());
    return 130;
  }

  diag::EvidenceOptions eo;
  eo.k = config.get_int("eval.k");
  eo.seed = static_cast<uint64_t>(config.get_int("train.seed"));
  const int64_t n = config.get_int("eval.n");
  data::Dataset test = n > 0 && n < data.test.size() ? data.test.subset(torch::arange(n, torch::kLong)) : data.test;
  std::fprintf(stderr, "elbo train: evaluating %lld test examples with K=%lld importance samples\n",
               static_cast<long long>(test.size()), static_cast<long long>(eo.k));
  const diag::Summary summary = diag::summarize(diag::estimate_evidence(*model, test, eo));
  write_file_atomic(dir + "/evaluation.json", diag::to_json(summary) + "\n");
  warn_if_collapsed(summary);
  write_report(dir, *model, data.test, config, summary);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nelbo train: done in " << std::fixed << std::setprecision(1) << seconds << " s; run directory "
            << dir << "\n"
            << summary_table(summary) << "  report: " << dir << "/report.html\n";
  return 0;
}

}  // namespace elbo::cli
