#include "elbo/run/metrics_log.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>

namespace elbo::run {
namespace {

/// Wall seconds since the kernel started this process (dynamic loading included), from
/// /proc/self/stat's start time and /proc/uptime (10 ms resolution); NaN if unreadable.
double seconds_since_process_start() {
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

}  // namespace

Json step_json(const train::StepRecord& r) {
  Json line{{"type", "step"}, {"step", r.step},     {"epoch", r.epoch}, {"loss", r.loss},
            {"elbo", r.elbo},   {"reconstruction", r.reconstruction},   {"kl", r.kl},
            {"beta", r.beta},   {"lr", r.lr},         {"examples_per_s", r.examples_per_s}, {"skipped", r.skipped}};
  for (const auto& [name, value] : r.objective_metrics) line[name] = value;
  return line;
}

Json epoch_json(const train::EpochRecord& r) {
  return {{"type", "epoch"},
          {"step", r.step},
          {"epoch", r.epoch},
          {"loss", r.loss},
          {"elbo", r.elbo},
          {"reconstruction", r.reconstruction},
          {"kl", r.kl},
          {"valid_elbo", r.valid_elbo},
          {"valid_reconstruction", r.valid_reconstruction},
          {"valid_kl", r.valid_kl},
          {"seconds", r.seconds},
          {"examples_per_s", r.examples_per_s}};
}

MetricsLog::MetricsLog(const std::string& path, int64_t epochs)
    : out_(path, std::ios::app), epochs_(epochs), tty_(::isatty(STDERR_FILENO)) {
  ELBO_CHECK(out_, "cannot append to '", path, "'");
}

void MetricsLog::write(const Json& line, bool flush) {
  out_ << line.dump() << "\n";
  if (flush) out_.flush();
}

void MetricsLog::on_train_step(const std::string& description) {
  std::fprintf(stderr, "elbo train: train step: %s\n", description.c_str());
  write({{"type", "train_step"}, {"train_step", description}});
}

void MetricsLog::on_batch(int64_t epoch, int64_t batch, int64_t batches) {
  if (!startup_written_) {  // the first step of this process is done
    startup_written_ = true;
    write({{"type", "startup"}, {"step", batch + (epoch - 1) * batches},
           {"seconds_to_first_step", seconds_since_process_start()}});
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

void MetricsLog::on_step(const train::StepRecord& r) {
  last_loss_ = r.loss;
  last_speed_ = r.examples_per_s;
  write(step_json(r), /*flush=*/false);
}

// The metrics up to a checkpoint reach the disk with it (a killed run resumes from there).
void MetricsLog::on_checkpoint(const std::string&, int64_t) { out_.flush(); }

void MetricsLog::on_skipped_step(int64_t, const std::string& reason) {
  if (tty_) std::fprintf(stderr, "\r%100s\r", "");
  std::fprintf(stderr, "elbo train: warning: %s; step skipped (train.nonfinite = \"skip\")\n", reason.c_str());
}

void MetricsLog::on_epoch(const train::EpochRecord& r) {
  write(epoch_json(r));
  if (tty_) std::fprintf(stderr, "\r%100s\r", "");
  char valid[64] = "";
  if (std::isfinite(r.valid_elbo)) std::snprintf(valid, sizeof valid, "  valid ELBO %.2f", r.valid_elbo);
  std::fprintf(stderr, "  epoch %lld/%lld  train ELBO %.2f (rec %.2f, KL %.2f)%s  %.1f s  %.0f ex/s\n",
               static_cast<long long>(r.epoch), static_cast<long long>(epochs_), r.elbo, r.reconstruction, r.kl, valid,
               r.seconds, r.examples_per_s);
}

void truncate_metrics(const std::string& path, int64_t step) {
  std::string kept;
  for (const Json& line : read_json_lines(path))
    if (!(json_number(line, "step") > step)) kept += line.dump() + "\n";
  write_file_atomic(path, kept);
}

}  // namespace elbo::run
