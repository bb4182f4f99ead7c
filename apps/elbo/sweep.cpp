// elbo sweep [CONFIG.toml] --key objective.beta --values 0.5,1,2,4 [--set ...] [--out DIR] [--n N]
#include "commands.h"

#include "elbo/run/sweep.h"

#include <iostream>

namespace elbo::cli {

Action add_sweep(CLI::App& app) {
  struct Args {
    std::string config_path, key = "objective.beta", out = "runs/sweep";
    std::vector<std::string> values, sets;
    int64_t n = -1;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "TOML run config shared by every run (default: the built-in model)")
      ->check(CLI::ExistingFile);
  app.add_option("--key", args->key, "config key to vary")->capture_default_str();
  app.add_option("--values", args->values, "values of the key, e.g. --values 0.5,1,2,4")->required()->delimiter(',');
  app.add_option("--set", args->sets, "override a config key of every run (repeatable)");
  app.add_option("--out", args->out, "directory of the sweep: one run per value, sweep.json, "
                                     "rate_distortion.svg, report.html")
      ->capture_default_str();
  app.add_option("--n", args->n, "test examples for rate and distortion (0 = all; default: eval.n)")
      ->check(CLI::NonNegativeNumber);
  app.footer("Rate R = E KL(q(z|x) || p(z)) and distortion D = -E log p(x|z) of each trained run give the\n"
             "rate-distortion curve (Alemi et al. 2018); for a beta sweep its slope -dD/dR at a point is the beta\n"
             "that reached it. Finished runs with the same config are reused, interrupted ones resumed.");
  return [args]() -> int {
    Config base = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
    for (const auto& s : args->sets) base.set(s);
    const Sweep s = sweep(base, args->key, args->values, args->out, args->n);
    if (s.status != 0) return s.status;
    std::cout << "elbo sweep " << args->key << " (" << s.points.size() << " runs in " << args->out << ")\n"
              << s.table << "  curve: " << args->out << "/rate_distortion.svg, report: " << args->out
              << "/report.html\n";
    return 0;
  };
}

}  // namespace elbo::cli
