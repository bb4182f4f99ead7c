// elbo report RUN [--k K] [--n N]: rebuild RUN/report.html now, also while elbo train runs.
#include "commands.h"

#include "elbo/run/report.h"

#include <iostream>

namespace elbo::cli {

Action add_report(CLI::App& app) {
  struct Args {
    std::string run;
    int64_t k = 0, n = -1;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train (also one still training)")->required();
  app.add_option("--k", args->k, "importance samples K of the test summary (default: eval.k of the run)")
      ->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "test examples to evaluate (0 = all; default: eval.n of the run)")
      ->check(CLI::NonNegativeNumber);
  return [args]() -> int {
    ReportOptions o;
    o.k = args->k;
    o.n = args->n;
    o.progress = true;
    const ReportState s = rebuild_report(args->run, o);
    std::cout << "wrote " << args->run << "/report.html: "
              << (s.checkpoint_step >= 0 ? "the checkpoint at step " + std::to_string(s.checkpoint_step)
                                         : std::string("no checkpoint yet"))
              << ", training curves to step " << s.metrics_step << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
