// elbo predict RUN --from A[,B] --to C[,D] [--draws M] [--k K] [--n N] [--out FILE.csv|FILE.png]
#include "commands.h"
#include "predictive.h"
#include "elbo/run/multimodal.h"
#include "elbo/run/run_directory.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/load.h"
#include "elbo/data/multimodal.h"
#include "elbo/report/plot.h"

#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace elbo::cli {
namespace {

constexpr const char* kQuantileNames[] = {"q05", "q25", "q50", "q75", "q95"};

/// Per row and predicted column: mean and quantiles (continuous) or class frequencies and mode.
std::string predictions_csv(const data::Dataset& test, const std::vector<size_t>& to, const torch::Tensor& mean,
                            const torch::Tensor& draws) {
  std::ostringstream out;
  out << std::setprecision(7) << "row";
  std::vector<torch::Tensor> columns;  // [N] each, in header order
  for (size_t t : to) {
    const data::Modality& m = test.modalities[t];
    for (int64_t j = 0; j < m.width; ++j) {
      const std::string name = j < static_cast<int64_t>(m.feature_names.size()) ? m.feature_names[j]
                                                                                 : m.name + "_" + std::to_string(j + 1);
      const torch::Tensor d = draws.select(2, m.begin + j);  // [M, N]
      if (m.likelihood == "categorical") {
        const torch::Tensor freq = torch::one_hot(d.to(torch::kLong), m.categories).to(torch::kDouble).mean(0);
        for (int64_t c = 0; c < m.categories; ++c) {
          out << "," << name << ":p" << c;
          columns.push_back(freq.select(1, c));
        }
        out << "," << name << ":mode";
        columns.push_back(freq.argmax(1).to(torch::kDouble));
        continue;
      }
      out << "," << name << ":mean";
      columns.push_back(mean.select(1, m.begin + j));
      const torch::Tensor q = torch::quantile(d, torch::tensor({0.05, 0.25, 0.5, 0.75, 0.95}, torch::kDouble), 0);
      for (int i = 0; i < 5; ++i) {
        out << "," << name << ":" << kQuantileNames[i];
        columns.push_back(q[i]);
      }
    }
  }
  out << "\n";
  const torch::Tensor table = torch::stack(columns, 1).contiguous();
  const auto a = table.accessor<double, 2>();
  for (int64_t i = 0; i < table.size(0); ++i) {
    out << i + 1;
    for (int64_t j = 0; j < table.size(1); ++j) out << "," << a[i][j];
    out << "\n";
  }
  return out.str();
}

}  // namespace

Action add_predict(CLI::App& app) {
  struct Args {
    std::string run, from, to, out, data;
    int64_t draws = 0, k = -1, n = 0, seed = 1;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory of a bnn or classifier run (p(y | x)), or of a multimodal run")
      ->required();
  app.add_option("--data", args->data, "bnn, classifier: rows to predict (IDX images or a CSV like the run's; default: "
                 "the test split)");
  app.add_option("--from", args->from, "multimodal: the modalities given (comma-separated names)");
  app.add_option("--to", args->to, "multimodal: the modalities predicted (comma-separated names)");
  app.add_option("--draws", args->draws, "bnn: weight draws (default eval.draws); multimodal: draws M per row for "
                 "quantiles and class frequencies (default 100)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--k", args->k, "importance samples K per row (default: eval.k of the run)")->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "first N test rows (0 = all; a picture shows 8 unless given)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--out", args->out,
                 "output .csv (bnn: per row class probabilities and entropy, or mean, sd and 5/25/50/75/95% quantiles; "
                 "multimodal: per row and predicted column mean and quantiles, or class frequencies and mode) or .png "
                 "(image modalities: truth, then predictions); default RUN/predictions.csv");
  app.add_option("--seed", args->seed, "seed of the draws")->capture_default_str();
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    const Config& c = run.config;
    const std::string& type = run.family();
    if (type == "bnn" || type == "classifier") {
      ELBO_CHECK(args->from.empty() && args->to.empty(), "elbo predict: --from/--to are for multimodal runs; a ", type,
                 " run predicts its labels or targets");
      torch::manual_seed(static_cast<uint64_t>(args->seed));
      return predict_outputs(run, {args->data, args->out, args->draws});
    }
    ELBO_CHECK(type == "multimodal", "elbo predict: '", run.dir, "' holds a model.type = \"", type,
               "\" run, which has no predictive distribution; predict reads bnn and classifier runs (p(y | x)) and "
               "multimodal runs (--from A --to B)");
    ELBO_CHECK(!args->from.empty() && !args->to.empty(), "elbo predict: a multimodal run needs --from and --to");
    ELBO_CHECK(args->data.empty(), "elbo predict: --data is for bnn and classifier runs");
    ELBO_CHECK(args->draws != 1, "elbo predict: a multimodal prediction needs --draws >= 2");
    if (args->draws == 0) args->draws = 100;
    const std::string out = args->out.empty() ? run.dir + "/predictions.csv" : args->out;
    const bool png = ends_with(out, ".png");
    ELBO_CHECK(png || ends_with(out, ".csv"), "elbo predict --out '", out, "' must end in .csv or .png");
    const std::vector<data::Modality> layout = data::modalities_of(c);
    const std::vector<size_t> from = data::find_modalities(layout, args->from, "--from");
    const std::vector<size_t> to = data::find_modalities(layout, args->to, "--to");
    for (size_t t : to)
      ELBO_CHECK(std::find(from.begin(), from.end(), t) == from.end(), "--to: '", layout[t].name,
                 "' is also in --from");
    const data::Splits splits = data::load_data(c);
    data::Dataset test = splits.test;
    const int64_t n = std::min(test.size(), args->n > 0 ? args->n : png ? 8 : test.size());
    if (n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
    diag::ImputationOptions o;
    o.particles = args->k > 0 ? args->k : run.importance_samples();
    o.draws = png ? 7 : args->draws;
    o.seed = static_cast<uint64_t>(args->seed);
    o.code_means = png;
    const MultimodalPrediction p = predict_modalities(*run.model, test, from, to, o);
    if (png) {
      const auto [truth, shape] = side_by_side(test.x.cpu().to(torch::kFloat), layout);
      std::vector<torch::Tensor> cells{truth};
      for (int64_t d = 0; d < o.draws; ++d) cells.push_back(side_by_side(p.draws[d].to(torch::kFloat), layout).first);
      write_examples(out, torch::stack(cells, 1).reshape({n * static_cast<int64_t>(cells.size()), -1}), shape,
                     static_cast<int64_t>(cells.size()));
      std::cout << "wrote " << n << " rows to " << out << " (each: the truth, then " << o.draws
                << " predictions given " << args->from << ")\n";
    } else {
      const data::Standardization& s = splits.standardization;
      write_file_atomic(out, predictions_csv(test, to, original_units(p.mean, s), original_units(p.draws, s)));
      std::cout << "wrote the predictions of " << args->to << " from " << args->from << " for " << n << " test rows to "
                << out << " (K=" << o.particles << ", " << o.draws << " draws)\n";
    }
    std::cout << prediction_table(splits, test, to, p);
    return 0;
  };
}

}  // namespace elbo::cli
