// elbo refine RUN [--n N] [--steps S] [--init encoder|prior] [--out FILE.csv]
#include "commands.h"
#include "elbo/run/run_directory.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/load.h"
#include "elbo/diag/gaps.h"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {

Action add_refine(CLI::App& app) {
  struct Args {
    std::string run, out, init = "encoder";
    int64_t n = 100, steps = 1000, particles = 16, batch = 100, k = 100;
    double lr = 0.05;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--n", args->n, "test examples to refine (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--steps", args->steps, "most Adam steps per batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--init", args->init, "start from the encoder's q(z|x) or from the prior N(0, I)")
      ->capture_default_str()
      ->check(CLI::IsMember({"encoder", "prior"}));
  app.add_option("--lr", args->lr, "Adam step size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--particles", args->particles, "particles K per example and step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--batch", args->batch, "examples optimized together")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--k", args->k, "particles of the final ELBO estimates written per example")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{1000000}));
  app.add_option("--out", args->out, "output CSV (default: RUN/refined_latents.csv)");
  return [args]() -> int {
    const std::string out = args->out.empty() ? args->run + "/refined_latents.csv" : args->out;
    ELBO_CHECK(out.size() >= 4 && out.substr(out.size() - 4) == ".csv", "elbo refine: --out must be a .csv file (got '",
               out, "')");
    LoadedRun run = load_run(args->run);
    data::Dataset test = data::load_test_data(run.config);
    if (args->n > 0 && args->n < test.size()) test = test.subset(torch::arange(args->n, torch::kLong));
    diag::RefineOptions ro;
    ro.init = args->init;
    ro.lr = args->lr;
    ro.max_steps = args->steps;
    ro.particles = args->particles;
    ro.batch_size = args->batch;
    ro.seed = run.seed();
    const diag::Refined r = diag::refine(*run.model, test, ro);

    // The ELBO of the encoder's q and of q* per example, on the same footing.
    const dist::DistributionPtr amortized = diag::amortized_posterior(*run.model, test, args->batch);
    const auto before = diag::estimate_elbo(*run.model, test, amortized, args->k, args->batch, ro.seed);
    const auto after = diag::estimate_elbo(*run.model, test, r.q(), args->k, args->batch, ro.seed + 1);

    const int64_t d = run.model->latent_dim();
    std::ostringstream csv;
    csv << std::setprecision(8);
    for (int64_t j = 0; j < d; ++j) csv << "mu" << j + 1 << ",";
    for (int64_t j = 0; j < d; ++j) csv << "sigma" << j + 1 << ",";
    csv << "elbo_amortized,elbo_refined" << (test.y.defined() ? ",label\n" : "\n");
    const torch::Tensor rows =
        torch::cat({r.parameters[0].to(torch::kDouble), r.parameters[1].exp().to(torch::kDouble), before.elbo.unsqueeze(1),
                    after.elbo.unsqueeze(1)}, 1).contiguous();
    auto a = rows.accessor<double, 2>();
    for (int64_t i = 0; i < rows.size(0); ++i) {
      for (int64_t j = 0; j < rows.size(1); ++j) csv << (j ? "," : "") << a[i][j];
      if (test.y.defined()) csv << "," << test.y[i].item<int64_t>();
      csv << "\n";
    }
    write_file_atomic(out, csv.str());
    std::cout << std::fixed << std::setprecision(3) << "refined q(z|x) of " << test.size() << " examples in "
              << r.steps << " steps" << (r.converged ? "" : " (max steps reached, not converged)")
              << ": mean ELBO " << before.elbo.mean().item<double>() << " (encoder) -> "
              << after.elbo.mean().item<double>() << " (refined); wrote " << out << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
