// elbo evaluate RUN [--k 1000] [--n N] [--json]
#include "commands.h"
#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/data/load.h"

#include <cstdio>
#include <iostream>

namespace elbo::cli {

Action add_evaluate(CLI::App& app) {
  struct Args {
    std::string run;
    int64_t k = -1, n = -1, batch = 100;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--k", args->k, "importance samples K (default: eval.k of the run, 1000)")->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "test examples to evaluate (0 = all; default: eval.n of the run)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", args->batch, "examples per pass")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--json", args->json, "print JSON instead of a table");
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    diag::EvidenceOptions eo;
    eo.k = args->k > 0 ? args->k : run.config.get_int("eval.k");
    eo.batch_size = args->batch;
    eo.seed = static_cast<uint64_t>(run.config.get_int("train.seed"));
    const int64_t n = args->n >= 0 ? args->n : run.config.get_int("eval.n");
    data::Dataset test = data::load_test_data(run.config);
    if (n > 0 && n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
    if (!args->json)
      eo.progress = [](int64_t done, int64_t total) {
        std::fprintf(stderr, "\r  evaluating %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
        if (done == total) std::fprintf(stderr, "\n");
      };
    const diag::Summary summary = diag::summarize(diag::estimate_evidence(*run.model, test, eo));
    const std::string json = diag::to_json(summary);
    write_file_atomic(run.dir + "/evaluation.json", json + "\n");
    if (args->json) std::cout << json << "\n";
    else std::cout << "elbo evaluate " << run.dir << "\n" << summary_table(summary);
    return 0;
  };
}

}  // namespace elbo::cli
