#pragma once
// The elbo command-line tool: one function per subcommand, each registering
// its options on a CLI11 app and returning the action to run.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace elbo {
class Config;
namespace train {
struct CheckpointInfo;
}
}  // namespace elbo

namespace elbo::cli {

using Action = std::function<int()>;

Action add_train(CLI::App& app);
Action add_evaluate(CLI::App& app);
Action add_sample(CLI::App& app);
Action add_reconstruct(CLI::App& app);
Action add_encode(CLI::App& app);
Action add_refine(CLI::App& app);
Action add_config(CLI::App& app);
Action add_sweep(CLI::App& app);

/// Trains `config` into run directory `dir` (continuing from its checkpoint when
/// `resumed` is given), evaluates and writes the report, as `elbo train` does.
/// Returns the exit status (0, or 130 when interrupted by SIGINT/SIGTERM).
int train_run(const Config& config, const std::string& dir, const train::CheckpointInfo* resumed = nullptr);

}  // namespace elbo::cli
