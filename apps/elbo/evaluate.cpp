// elbo evaluate RUN [--k 1000] [--n N] [--json] [--gaps] [--mi]; MIG when the test data have known factors
#include "commands.h"

#include "elbo/core/json.h"
#include "elbo/run/evaluation.h"

#include <iostream>

namespace elbo::cli {

Action add_evaluate(CLI::App& app) {
  struct Args {
    std::string run;
    int64_t k = -1, n = -1, batch = 100;
    bool json = false, gaps = false, mi = false;
    int64_t refine_steps = 1000;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--k", args->k, "importance samples K (default: eval.k of the run, 1000)")->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "test examples to evaluate (0 = all; default: eval.n of the run)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", args->batch, "examples per pass")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--json", args->json, "print JSON instead of a table");
  app.add_flag("--gaps", args->gaps,
               "also optimize q* per example and report the approximation, amortization and total gaps "
               "(Cremer et al. 2018) with standard errors and Pinsker bounds");
  app.add_flag("--mi", args->mi, "also report the mutual information I(x;z), rate, distortion and KL(q(z) || p(z))");
  app.add_option("--refine-steps", args->refine_steps, "most Adam steps of the per-example optimization (--gaps)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return [args]() -> int {
    EvaluationOptions o;
    o.k = args->k > 0 ? args->k : 0;
    o.n = args->n;
    o.batch_size = args->batch;
    o.gaps = args->gaps;
    o.refine_steps = args->refine_steps;
    o.information = args->mi;
    o.progress = !args->json;
    const Evaluation e = evaluate_run(load_run(args->run), o);
    if (args->json) std::cout << e.json.dump() << "\n";
    else std::cout << "elbo evaluate " << args->run << "\n" << e.table;
    return 0;
  };
}

}  // namespace elbo::cli
