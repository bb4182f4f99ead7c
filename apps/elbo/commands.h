#pragma once
// The elbo command-line tool: one function per subcommand, each registering
// its options on a CLI11 app and returning the action to run.
#include <CLI/CLI.hpp>

#include <functional>

namespace elbo::cli {

using Action = std::function<int()>;

Action add_train(CLI::App& app);
Action add_evaluate(CLI::App& app);
Action add_sample(CLI::App& app);
Action add_reconstruct(CLI::App& app);
Action add_encode(CLI::App& app);
Action add_refine(CLI::App& app);
Action add_config(CLI::App& app);

}  // namespace elbo::cli
