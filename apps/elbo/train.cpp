// elbo train [CONFIG.toml] [--set key=value ...] [--out DIR] [--resume] [--nproc N | --rank R --world-size N --master ADDR:PORT]
#include "commands.h"
#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/device.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/data/multimodal.h"
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/train/distributed.h"
#include "elbo/train/trainer.h"

#include <torch/cuda.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>
#include <tuple>

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
  /// Wall seconds since the kernel started this process (dynamic loading included), from
  /// /proc/self/stat's start time and /proc/uptime (10 ms resolution); NaN if unreadable.
  static double seconds_since_process_start() {
    std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the command name may hold spaces
    std::istringstream fields(close == std::string::npos ? std::string() : text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {}  // field 22: start time in clock ticks after boot
    double up = 0;
    if (!(uptime >> up) || field.empty()) return std::nan("");
    return up - std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  Reporter(const std::string& metrics_path, int64_t epochs)
      : out_(metrics_path, std::ios::app), epochs_(epochs), tty_(::isatty(STDERR_FILENO)) {
    ELBO_CHECK(out_, "cannot append to '", metrics_path, "'");
  }

  void on_train_step(const std::string& description) override {
    std::fprintf(stderr, "elbo train: train step: %s\n", description.c_str());
    std::string quoted;  // a JSON string
    for (const char c : description) quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    out_ << "{\"type\": \"train_step\", \"train_step\": \"" << quoted << "\"}\n";
  }

  void on_batch(int64_t epoch, int64_t batch, int64_t batches) override {
    if (!startup_written_) {  // the first step of this process is done
      startup_written_ = true;
      out_ << "{\"type\": \"startup\", \"step\": " << batch + (epoch - 1) * batches
           << ", \"seconds_to_first_step\": " << json_number(seconds_since_process_start()) << "}\n";
      out_.flush();
    }
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
  bool startup_written_ = false;
  double last_loss_ = 0, last_speed_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// Keeps metrics.jsonl consistent with the checkpoint: drops lines of steps after it, and a
/// line cut by a kill mid-write.
void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '}') continue;
    const auto pos = line.find("\"step\": ");
    if (pos != std::string::npos && std::stoll(line.substr(pos + 8)) > step) continue;
    kept << line << "\n";
  }
  write_file_atomic(path, kept.str());
}

/// The config of `elbo train --resume`: the one stored in DIR/checkpoint.pt, after
/// checking that a config given on the command line (if any) is the same.
Config resumed_config(const Config& given_config, bool given, const std::string& dir, train::CheckpointInfo& info) {
  const std::string ckpt = checkpoint_path(dir);
  ELBO_CHECK(::access(ckpt.c_str(), F_OK) == 0, "--resume: no checkpoint to resume from: '", ckpt,
             "' does not exist (start the run without --resume)");
  info = train::read_checkpoint_info(ckpt);
  ELBO_CHECK(!given || info.config_toml == given_config.to_toml(), "--resume: the config differs from the one stored in '",
             ckpt, "'; resume with the same config (or none: the stored one is used)");
  return Config::from_toml(info.config_toml, ckpt + " (stored config)");
}

/// The first line (with its [section]) where two TOML texts differ, for error messages.
std::string first_difference(const std::string& mine, const std::string& theirs) {
  std::istringstream a(mine), b(theirs);
  std::string la, lb, section;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) return "";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (la != lb) return "'" + section + la + "' here, '" + section + lb + "' on rank 0";
    if (!la.empty() && la.front() == '[') section = la + " ";
  }
}

/// A removed-on-exit copy of rank 0's checkpoint (ranks > 0 may run on machines without the run directory).
struct TemporaryFile {
  std::string path;
  explicit TemporaryFile(const std::string& bytes) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/elbo-checkpoint-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    ELBO_CHECK(fd >= 0, "cannot create a temporary file '", pattern, "' for rank 0's checkpoint");
    ::close(fd);
    path = pattern;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~TemporaryFile() { std::remove(path.c_str()); }
};

/// Trains, evaluates and reports (rank 0 only) a run; `dist` makes it one rank of a data-parallel run.
int run_training(const Config& given_config, const std::string& dir, const train::CheckpointInfo* resumed,
                 const std::string& resume_from, const std::shared_ptr<train::Distributed>& dist) {
  Config config = given_config;
  const auto start = std::chrono::steady_clock::now();
  const bool resume = resumed != nullptr;
  const bool root = !dist || dist->rank() == 0;  // only rank 0 touches the run directory
  if (root) {
    ensure_writable_dir(dir);
    remove_stale_temporaries(dir);  // left by a run killed while writing its checkpoint
  }
  const std::string ckpt = checkpoint_path(dir);
  set_threads(config.get_int("train.threads"));
  c10::Device device = resolve_device(config.get_string("train.device"));
  if (dist && device.is_cuda())  // one GPU per rank on a machine
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(dist->rank() % torch::cuda::device_count()));

  data::Splits data = data::load_data(config, /*read_test_file=*/false);  // read after training
  data::record_modalities(config, data.train.modalities);  // the stored config rebuilds the model without the data
  if (root)
    std::fprintf(stderr, "elbo train: %lld training, %lld validation examples of %lld features from %s\n",
                 static_cast<long long>(data.train.size()), static_cast<long long>(data.validation.size()),
                 static_cast<long long>(data.train.features()), data.train.name.c_str());
  if (root && data.train.rows_dropped + data.validation.rows_dropped + data.test.rows_dropped > 0)
    std::fprintf(stderr, "elbo train: dropped rows with every entry missing: %lld training, %lld validation, %lld test\n",
                 static_cast<long long>(data.train.rows_dropped), static_cast<long long>(data.validation.rows_dropped),
                 static_cast<long long>(data.test.rows_dropped));
  ELBO_CHECK(!resume || resumed->features == data.train.features(), "--resume: checkpoint '", ckpt,
             "' was trained on data with ", resumed->features, " features per example, but '", data.train.name,
             "' has ", data.train.features(), " (the data changed since the run started?)");
  seed_stream(static_cast<uint64_t>(config.get_int("train.seed")), RngStream::init);
  auto model = model::make_model(config, data::Schema::of(data.train));
  model->to(device);
  const int64_t labelled = data.train.y_mask.defined() ? data.train.y_mask.sum().item<int64_t>() : 0;
  auto objective = objective::make_objective(config, data.train.size(), labelled);
  train::TrainerOptions options = train::TrainerOptions::from_config(config);
  options.checkpoint_path = root ? ckpt : "";
  options.checkpoint_info.image = data.train.image;
  if (dist) {
    dist->start_group(device, config.get_double("train.dist_timeout"));
    options.distributed = dist;
    if (root)
      std::fprintf(stderr, "elbo train: data-parallel on %d processes, global batch %lld (%lld per process)\n",
                   dist->world_size(), static_cast<long long>(options.batch_size * dist->world_size()),
                   static_cast<long long>(options.batch_size));
  }
  train::Trainer trainer(model, objective, options);
  const std::string metrics = dir + "/metrics.jsonl";
  if (resume) {
    trainer.resume(resume_from);
    if (root) {
      truncate_metrics(metrics, trainer.step());
      std::fprintf(stderr, "elbo train: resumed at step %lld (epoch %lld done)\n",
                   static_cast<long long>(trainer.step()), static_cast<long long>(trainer.epoch()));
    }
  } else if (root) {
    std::remove(metrics.c_str());
  }
  if (root) write_file_atomic(dir + "/config.toml", config.to_toml());

  std::unique_ptr<Reporter> reporter = root ? std::make_unique<Reporter>(metrics, options.epochs) : nullptr;
  active_trainer = &trainer;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  trainer.fit(data.train, data.validation, reporter.get());
  active_trainer = nullptr;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (trainer.stopped_early()) {
    if (root)
      std::fprintf(stderr, "\nelbo train: interrupted; checkpoint written at step %lld. Continue with: elbo train --out %s "
                   "--resume%s\n", static_cast<long long>(trainer.step()), dir.c_str(),
                   dist ? " (and the same --nproc, or --rank/--world-size/--master)" : "");
    return 130;
  }
  if (!root) return 0;
  data.train = data.validation = data::Dataset();  // their memory serves the evaluation below
  if (!data.test.x.defined()) data.test = data::load_test_data(config);

  diag::EvidenceOptions eo;
  eo.k = config.get_int("eval.k");
  eo.seed = static_cast<uint64_t>(config.get_int("train.seed"));
  const int64_t n = config.get_int("eval.n");
  data::Dataset test = n > 0 && n < data.test.size() ? data.test.subset(torch::arange(n, torch::kLong)) : data.test;
  std::fprintf(stderr, "elbo train: evaluating %lld test examples with K=%lld importance samples\n",
               static_cast<long long>(test.size()), static_cast<long long>(eo.k));
  const diag::Summary summary = diag::summarize(diag::estimate_evidence(*model, test, eo));
  std::string json = diag::to_json(summary), table = summary_table(summary);
  std::vector<report::Section> extra;
  evaluate_extras(*model, test, config, dir, eo.k, /*batch_size=*/1000, json, table, extra);
  write_file_atomic(dir + "/evaluation.json", json + "\n");
  warn_if_collapsed(summary);
  write_report(dir, *model, data.test, config, summary, extra);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "\nelbo train: done in " << std::fixed << std::setprecision(1) << seconds << " s; run directory "
            << dir << "\n"
            << table << "  report: " << dir << "/report.html\n";
  return 0;
}

/// One rank of a data-parallel run: joins the rendezvous, agrees on the config
/// (rank 0's; ranks > 0 check theirs against it, or take it on --resume together
/// with rank 0's checkpoint, sent through the store), then trains.
int train_rank(Config config, bool given, const std::string& dir, bool resume, train::DistributedOptions options) {
  ELBO_CHECK(options.world_size >= 1, "--world-size must be >= 1 (got ", options.world_size, ")");
  ELBO_CHECK(options.rank >= 0 && options.rank < options.world_size, "--rank ", options.rank, " must be in [0, ",
             options.world_size, ") for --world-size ", options.world_size);
  error_prefix = detail::concat("elbo (rank ", options.rank, ")");
  train::check_data_parallel(config);  // at once, before waiting for the other ranks
  options.timeout_s = config.get_double("train.dist_timeout");
  auto dist = train::Distributed::connect(options);
  const int rank = options.rank, world = options.world_size;
  train::CheckpointInfo info;
  std::string resume_from;
  std::unique_ptr<TemporaryFile> copy;
  if (rank == 0) {
    std::string checkpoint_bytes;
    try {
      if (resume) {
        config = resumed_config(config, given, dir, info);
        resume_from = checkpoint_path(dir);
        checkpoint_bytes = read_file(resume_from);
      }
      train::check_data_parallel(config);
    } catch (const std::exception& e) {
      dist->set("start", std::string("error\n") + e.what());
      throw;
    }
    dist->set("checkpoint", checkpoint_bytes);
    dist->set("start", std::string(resume ? "resume\n" : "fresh\n") + config.to_toml());
    for (int r = 1; r < world; ++r) {
      const std::string verdict = dist->get(detail::concat("verdict/", r));
      ELBO_CHECK(verdict.empty(), "rank ", r, " refused to start: ", verdict);
    }
  } else {
    const std::string start = dist->get("start");
    const auto newline = start.find('\n');
    const std::string mode = start.substr(0, newline), body = start.substr(newline + 1);
    ELBO_CHECK(mode != "error", "rank 0 could not start: ", body);
    std::string verdict;
    if ((mode == "resume") != resume) {
      verdict = resume ? "it was started with --resume, rank 0 without" : "rank 0 was started with --resume, it without";
    } else {
      const Config theirs = Config::from_toml(body, "rank 0's config");
      if (given || !resume) {
        const std::string difference = first_difference(config.to_toml(), theirs.to_toml());
        if (!difference.empty())
          verdict = "its config differs from rank 0's (every rank needs the same config): " + difference;
      }
      config = theirs;
    }
    dist->set(detail::concat("verdict/", rank), verdict);
    ELBO_CHECK(verdict.empty(), "rank ", rank, " of ", world, ": ", verdict);
    if (resume) {
      copy = std::make_unique<TemporaryFile>(dist->get("checkpoint"));
      resume_from = copy->path;
      info = train::read_checkpoint_info(resume_from);
    }
  }
  return run_training(config, dir, resume ? &info : nullptr, resume_from, dist);
}

}  // namespace

std::string error_prefix = "elbo";

Action add_train(CLI::App& app) {
  struct Args {
    std::string config_path, out = "runs/default";
    std::vector<std::string> sets;
    bool resume = false;
    int nproc = 1, rank = 0, world_size = 1;
    std::string master;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "TOML run config (default: the built-in MLP VAE on Fashion-MNIST)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", args->sets, "override a config key, e.g. --set train.epochs=3 (repeatable)");
  app.add_option("--out", args->out, "run directory to write")->capture_default_str();
  app.add_flag("--resume", args->resume, "continue from RUN/checkpoint.pt (same config)");
  CLI::Option* nproc = app.add_option("--nproc", args->nproc,
      "data-parallel training on N processes of this machine (train.batch_size per process)");
  CLI::Option* rank = app.add_option("--rank", args->rank, "data-parallel across machines: this process's rank, 0..N-1");
  CLI::Option* world = app.add_option("--world-size", args->world_size, "data-parallel across machines: N, all ranks");
  CLI::Option* master = app.add_option("--master", args->master, "data-parallel across machines: ADDR:PORT of rank 0");
  app.footer("Run 'elbo config' for every key. The run directory gets config.toml, checkpoint.pt, metrics.jsonl,\n"
             "samples.png, reconstructions.png, interpolation.png, curves.svg, evaluation.json and report.html.\n"
             "Data-parallel: --nproc N on one machine; across machines, every machine runs\n"
             "  elbo train ... --rank R --world-size N --master ADDR:PORT  (rank 0 serves ADDR:PORT; see README).");
  return [args, nproc, rank, world, master]() -> int {
    const bool as_rank = rank->count() + world->count() + master->count() > 0;
    ELBO_CHECK(!(nproc->count() > 0 && as_rank), "--nproc starts the ranks itself on this machine; give either --nproc N "
               "or --rank, --world-size and --master (one process per rank), not both");
    ELBO_CHECK(args->nproc >= 1, "--nproc must be >= 1 (got ", args->nproc, ")");
    ELBO_CHECK(!as_rank || (rank->count() > 0 && world->count() > 0 && master->count() > 0),
               "--rank, --world-size and --master go together: give all three (or --nproc N on one machine)");
    train::DistributedOptions dist;
    if (as_rank) {
      ELBO_CHECK(args->world_size >= 1, "--world-size must be >= 1 (got ", args->world_size, ")");
      ELBO_CHECK(args->rank >= 0 && args->rank < args->world_size, "--rank ", args->rank, " must be in [0, ",
                 args->world_size, ") for --world-size ", args->world_size);
      std::tie(dist.master_addr, dist.master_port) = train::parse_master(args->master);
      dist.rank = args->rank;
      dist.world_size = args->world_size;
    }
    Config config = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
    for (const auto& s : args->sets) config.set(s);
    const bool given = !args->config_path.empty() || !args->sets.empty();
    if (as_rank && dist.world_size > 1) return train_rank(config, given, args->out, args->resume, dist);

    train::CheckpointInfo resumed_info;
    if (args->resume) config = resumed_config(config, given, args->out, resumed_info);
    if (args->nproc > 1) {
      train::check_data_parallel(config);
      std::vector<std::string> child = {"train"};
      if (!args->config_path.empty()) child.push_back(args->config_path);
      for (const auto& s : args->sets) child.insert(child.end(), {"--set", s});
      child.insert(child.end(), {"--out", args->out});
      if (args->resume) child.push_back("--resume");
      return launch_ranks(static_cast<int>(args->nproc), child, config.get_double("train.dist_timeout"));
    }
    return train_run(config, args->out, args->resume ? &resumed_info : nullptr);
  };
}

int train_run(const Config& config, const std::string& dir, const train::CheckpointInfo* resumed) {
  return run_training(config, dir, resumed, checkpoint_path(dir), nullptr);
}

}  // namespace elbo::cli
