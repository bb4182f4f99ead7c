// elbo score RUN --fasta FILE [--k K] [--mutations]
#include "commands.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/sequence_scores.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/report/heat_map.h"
#include "elbo/report/image_grid.h"

#include <iostream>

namespace elbo::cli {

Action add_score(CLI::App& app) {
  struct Args {
    std::string run, fasta, out;
    ScoreOptions options;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory of a model trained on FASTA windows")->required();
  app.add_option("--fasta", args->fasta, "sequences to score (FASTA, plain or gzip)")->required();
  app.add_option("--k", args->options.k, "importance samples of the log-likelihood")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--mutations", args->options.mutations,
               "also the change in ELBO of every single-base substitution of every window (mutations.csv, mutations.png)");
  app.add_option("--particles", args->options.mutation_particles, "particles of each variant's ELBO (--mutations)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--out", args->out, "output directory (default: RUN)");
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    const std::string out = args->out.empty() ? run.dir : args->out;
    ensure_writable_dir(out);
    const SequenceScores scores = score_sequences(run, data::read_fasta(args->fasta), args->options);
    write_file_atomic(out + "/scores.csv", scores_csv(scores));
    std::cout << "record              bits/base (ELBO)   bits/base (IWAE, K=" << args->options.k << ")\n";
    for (const auto& s : scores.records)
      std::printf("%-20s %16.4f %14.4f ± %.4f\n", s.name.c_str(), s.elbo_bits, s.iwae_bits, s.iwae_se_bits);
    std::cout << "wrote " << out << "/scores.csv\n";
    if (!scores.maps.empty()) {
      write_file_atomic(out + "/mutations.csv", mutations_csv(scores));
      // Each window's map as 4 rows (A, C, G, T) by its positions, one blank row between windows.
      std::vector<torch::Tensor> rows;
      for (const auto& m : scores.maps) {
        if (!rows.empty()) rows.push_back(torch::full({1, m.delta.size(0)}, 0.0, torch::kDouble));
        rows.push_back(m.delta.t().to(torch::kDouble));
      }
      const torch::Tensor image = report::diverging_heat_map(torch::cat(rows));
      report::write_image_grid(out + "/mutations.png", image.unsqueeze(0),
                               ImageShape{3, image.size(1), image.size(2)}, 1);
      std::cout << "wrote " << out << "/mutations.csv and mutations.png (ELBO change of each substitution in nats: "
                << "blue = worse, red = better)\n";
    }
    return 0;
  };
}

}  // namespace elbo::cli
