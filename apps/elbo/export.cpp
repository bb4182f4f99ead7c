// elbo export RUN --format state_dict [--out FILE]: the weights for PyTorch (docs/CHECKPOINT.md)
// elbo export RUN --format cif [--split train|validation|test] [--out DIR]: a crystal run's data as CIF files
#include "commands.h"

#include "elbo/run/crystal_splits.h"
#include "elbo/run/crystals.h"
#include "elbo/run/export.h"

#include <iostream>

namespace elbo::cli {

Action add_export(CLI::App& app) {
  struct Args {
    std::string run, format = "state_dict", split = "train", out;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--format", args->format,
                 "state_dict: a file torch.load reads into a dict of the model's parameters and buffers by name, "
                 "and FILE.json beside it with the config and each tensor's shape; cif (crystal runs): the structures "
                 "of a data split as the run built them (data.substitutions, data.max_atoms), SPLIT1.cif ... and "
                 "SPLIT.csv (formula, volume, minimum distance, validity) in a directory")
      ->capture_default_str()
      ->check(CLI::IsMember({"state_dict", "cif"}));
  app.add_option("--split", args->split, "--format cif: the split written (test: the inputs of elbo reconstruct, in its "
                 "order: testI is the input of reconstructionI)")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "validation", "test"}));
  app.add_option("--out", args->out, "output file (default: RUN/state_dict.pt; the JSON goes to the same name with .json); "
                 "--format cif: a directory (default RUN/structures-SPLIT)");
  return [args]() -> int {
    const LoadedRun run = load_run(args->run);
    if (args->format == "cif") {
      const std::string dir = args->out.empty() ? args->run + "/structures-" + args->split : args->out;
      const auto checks = write_crystals(split_structures(run.config, args->split), dir, args->split + ".csv", false);
      std::cout << "wrote " << checks.size() << " " << args->split << " structures to " << dir << " (" << args->split
                << "1.cif ... and " << args->split << ".csv)\n" << crystal_summary(checks) << "\n";
      return 0;
    }
    const std::string out = args->out.empty() ? args->run + "/state_dict.pt" : args->out;
    export_state_dict(run, out);
    std::cout << "wrote " << state_dict(run).size() << " tensors to " << out << " and the config to "
              << export_metadata_path(out) << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
