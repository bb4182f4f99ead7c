// elbo train [CONFIG.toml] [--set key=value ...] [--out DIR] [--resume] [--nproc N | --rank R --world-size N --master ADDR:PORT]
#include "commands.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/train_run.h"
#include "elbo/train/distributed.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

namespace elbo::cli {
namespace {

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

/// One rank of a data-parallel run: joins the rendezvous, agrees on the config
/// (rank 0's; ranks > 0 check theirs against it, or take it on --resume together
/// with rank 0's checkpoint, sent through the store), then trains.
int train_rank(Config config, bool given, const std::string& dir, bool resume, train::DistributedOptions options) {
  ELBO_CHECK(options.world_size >= 1, "--world-size must be >= 1 (got ", options.world_size, ")");
  ELBO_CHECK(options.rank >= 0 && options.rank < options.world_size, "--rank ", options.rank, " must be in [0, ",
             options.world_size, ") for --world-size ", options.world_size);
  error_prefix = detail::concat("elbo (rank ", options.rank, ")");
  train::check_data_parallel(config);  // at once, before waiting for the other ranks
  options.timeout_s = train::rendezvous_timeout(config);
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
    }
  }
  TrainRunOptions o;
  o.resume = resume;
  o.resume_from = resume_from;
  o.distributed = dist;
  o.stop_on_signals = true;
  return train_run(config, dir, o);
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
  CLI::Option* master = app.add_option("--master", args->master, "data-parallel across machines: ADDR:PORT of rank 0, "
      "or file:PATH, a rendezvous file every rank sees that no earlier run used (nothing listens on the network)");
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
      if (args->master.rfind("file:", 0) == 0)
        dist.store_file = args->master.substr(5);
      else
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
      return launch_ranks(static_cast<int>(args->nproc), child, train::rendezvous_timeout(config));
    }
    TrainRunOptions o;
    o.resume = args->resume;
    if (args->resume) o.resumed_info = resumed_info;
    o.stop_on_signals = true;
    return train_run(config, args->out, o);
  };
}

}  // namespace elbo::cli
