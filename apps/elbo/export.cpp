// elbo export RUN --format state_dict [--out FILE]: the weights for PyTorch (docs/CHECKPOINT.md)
#include "commands.h"

#include "elbo/run/export.h"

#include <iostream>

namespace elbo::cli {

Action add_export(CLI::App& app) {
  struct Args {
    std::string run, format = "state_dict", out;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--format", args->format,
                 "state_dict: a file torch.load reads into a dict of the model's parameters and buffers by name, "
                 "and FILE.json beside it with the config and each tensor's shape")
      ->capture_default_str()
      ->check(CLI::IsMember({"state_dict"}));
  app.add_option("--out", args->out, "output file (default: RUN/state_dict.pt; the JSON goes to the same name with .json)");
  return [args]() -> int {
    const LoadedRun run = load_run(args->run);
    const std::string out = args->out.empty() ? args->run + "/state_dict.pt" : args->out;
    export_state_dict(run, out);
    std::cout << "wrote " << state_dict(run).size() << " tensors to " << out << " and the config to "
              << export_metadata_path(out) << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
