#pragma once
// The elbo command-line tool: one function per subcommand, each registering
// its options on a CLI11 app and returning the action to run.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace elbo::run {}

namespace elbo::cli {

using namespace elbo::run;  // the run lifecycle (library module run/) that the subcommands drive

using Action = std::function<int()>;

Action add_train(CLI::App& app);
Action add_evaluate(CLI::App& app);
Action add_sample(CLI::App& app);
Action add_reconstruct(CLI::App& app);
Action add_encode(CLI::App& app);
Action add_refine(CLI::App& app);
Action add_impute(CLI::App& app);
Action add_predict(CLI::App& app);
Action add_forecast(CLI::App& app);
Action add_sequences(CLI::App& app);
Action add_config(CLI::App& app);
Action add_sweep(CLI::App& app);
Action add_score(CLI::App& app);
Action add_design(CLI::App& app);
Action add_lattice(CLI::App& app);
Action add_report(CLI::App& app);
Action add_completion(CLI::App& app);
Action add_export(CLI::App& app);

/// `elbo train --nproc N`: runs `elbo train ARGS` as N data-parallel ranks on this
/// machine, child processes of this binary with --rank r --world-size N --master
/// file:DIR/store appended (a fresh directory, removed at the end: the ranks meet through a
/// file and Gloo binds to 127.0.0.1, so nothing of the run listens beyond loopback). Rank 0 keeps stdout; each rank gets
/// OPENBLAS_NUM_THREADS = cores / N unless it is set. Every rank that fails (exit
/// status != 0 other than an agreed stop, or a signal) is named on stderr; the first
/// one's status is returned (1 for a signal) and the others get SIGTERM (SIGKILL after
/// timeout_s + 10 s). SIGINT/SIGTERM reaching this process are passed on to the ranks.
int launch_ranks(int nproc, const std::vector<std::string>& args, double timeout_s);

/// How error messages begin: "elbo", or "elbo (rank R)" in a data-parallel rank.
extern std::string error_prefix;

}  // namespace elbo::cli
