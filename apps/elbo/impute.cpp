// elbo impute RUN [--data FILE] [--draws M] [--k K] [--n N] [--summary] [--out FILE.csv|FILE.png]
#include "commands.h"
#include "elbo/run/pictures.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/summaries.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/load.h"

#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

std::vector<std::string> column_names(const data::Dataset& d) {
  if (static_cast<int64_t>(d.feature_names.size()) == d.features()) return d.feature_names;
  std::vector<std::string> names;
  for (int64_t j = 0; j < d.features(); ++j) names.push_back("x" + std::to_string(j + 1));
  return names;
}

/// "draw,row,<columns>": the M completed copies, rows numbered from 1 as in the data.
std::string copies_csv(const torch::Tensor& draws, const std::vector<std::string>& names) {
  std::ostringstream out;
  out << std::setprecision(9) << "draw,row";
  for (const auto& n : names) out << "," << n;
  out << "\n";
  const torch::Tensor values = draws.contiguous();
  const auto a = values.accessor<double, 3>();
  for (int64_t m = 0; m < draws.size(0); ++m)
    for (int64_t i = 0; i < draws.size(1); ++i) {
      out << m + 1 << "," << i + 1;
      for (int64_t j = 0; j < draws.size(2); ++j) out << "," << a[m][i][j];
      out << "\n";
    }
  return out.str();
}

/// "row,column,mean,q05,q25,q50,q75,q95[,truth]": one line per missing cell.
std::string summary_csv(const torch::Tensor& draws, const torch::Tensor& mean, const data::Dataset& d,
                        const data::Standardization& s) {
  const torch::Tensor q = torch::quantile(draws.contiguous(), torch::tensor({0.05, 0.25, 0.5, 0.75, 0.95}, torch::kDouble), 0);
  const bool known = d.hidden.defined();
  const torch::Tensor truth = known ? original_units(data::float_features(d.x).cpu(), s).contiguous()
                                    : torch::empty({0, 0}, torch::kDouble);
  const torch::Tensor hidden = known ? d.hidden.cpu().to(torch::kFloat).contiguous() : torch::empty({0, 0});
  const auto ta = truth.accessor<double, 2>();
  const auto ha = hidden.accessor<float, 2>();
  std::ostringstream out;
  out << std::setprecision(9) << "row,column,mean,q05,q25,q50,q75,q95" << (known ? ",truth" : "") << "\n";
  const torch::Tensor missing = (d.mask.cpu() == 0).nonzero();  // [cells, 2], row-major order
  const auto cells = missing.accessor<int64_t, 2>();
  const auto qa = q.accessor<double, 3>();
  const torch::Tensor means = mean.contiguous();
  const auto ma = means.accessor<double, 2>();
  for (int64_t c = 0; c < missing.size(0); ++c) {
    const int64_t i = cells[c][0], j = cells[c][1];
    out << i + 1 << "," << j + 1 << "," << ma[i][j];
    for (int64_t k = 0; k < 5; ++k) out << "," << qa[k][i][j];
    if (known) {
      out << ",";
      if (ha[i][j] > 0) out << ta[i][j];
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

Action add_impute(CLI::App& app) {
  struct Args {
    std::string run, data, out;
    int64_t draws = 100, k = -1, n = 0, seed = 1;
    bool summary = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory")->required();
  app.add_option("--data", args->data,
                 "a file with missing entries in the run's data format (CSV: empty or NA cells); default: the run's "
                 "test split with the entries its data.missing hid");
  app.add_option("--draws", args->draws, "imputations M per example")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--k", args->k, "importance samples K per example (default: eval.k of the run)")
      ->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "first N examples (0 = all; a picture shows 8 unless given)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--summary", args->summary,
               "CSV: per missing cell the weighted mean and the 5/25/50/75/95% quantiles of the draws instead of the "
               "M completed copies");
  app.add_option("--out", args->out,
                 "output .csv (completed copies, or --summary) or .png (images: input, mask, truth, mean, imputations); "
                 "default RUN/imputations.csv or .png");
  app.add_option("--seed", args->seed, "seed of the draws")->capture_default_str();
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    const Config& c = run.config;
    const std::string out = args->out.empty() ? run.dir + (run.info.image.is_image() ? "/imputations.png"
                                                                                     : "/imputations.csv")
                                              : args->out;
    ELBO_CHECK(ends_with(out, ".csv") || ends_with(out, ".png"), "elbo impute --out '", out, "' must end in .csv or .png");
    const bool png = ends_with(out, ".png");
    ELBO_CHECK(!png || run.info.image.is_image(), "elbo impute --out '", out,
               "': the data of this run are not images; write .csv instead");
    // Tables standardized with the training statistics are imputed in those units and written back in the file's.
    data::Standardization s;
    data::Dataset d;
    if (args->data.empty()) {
      d = data::load_test_data(c, &s);
      ELBO_CHECK(d.mask.defined() && (d.mask == 0).any().item<bool>(), "elbo impute: the test data of '", run.dir,
                 "' have no missing entries; give --data FILE with missing cells, or train with data.missing set");
    } else {
      s = training_standardization(run);
      d = data::read_examples(c, args->data);
      ELBO_CHECK(d.features() == run.model->features(), "elbo impute: '", args->data, "' has ", d.features(),
                 " features per example, the model of '", run.dir, "' was trained on ", run.model->features());
      ELBO_CHECK(d.mask.defined(), "elbo impute: '", args->data, "' has no missing entries (empty or NA cells)");
      if (s.mean.defined()) data::apply_standardization(d, s);
    }
    const int64_t n = args->n > 0 ? args->n : png ? 8 : d.size();
    if (n < d.size()) d = d.subset(torch::arange(n, torch::kLong));
    const int64_t k = args->k > 0 ? args->k : run.importance_samples();
    if (png) {
      const ImputationPicture p = imputation_picture(*run.model, d, n, k, static_cast<uint64_t>(args->seed));
      write_examples(out, p.images, run.info.image, p.columns);
      std::cout << "wrote the imputations of " << d.size() << " examples to " << out
                << " (columns: input, mask, truth, mean, four imputations)\n";
      return 0;
    }
    diag::ImputationOptions o;
    o.particles = k;
    o.draws = args->draws;
    o.seed = static_cast<uint64_t>(args->seed);
    const diag::Imputation imp = diag::impute(*run.model, d, o);
    const torch::Tensor draws = original_units(imp.draws, s);
    write_file_atomic(out, args->summary ? summary_csv(draws, original_units(imp.mean, s), d, s)
                                         : copies_csv(draws, column_names(d)));
    const int64_t cells = (d.mask == 0).sum().item<int64_t>();
    std::cout << "wrote " << (args->summary ? "the mean and quantiles of " : std::to_string(args->draws) + " imputations of ")
              << cells << " missing entries in " << d.size() << " rows to " << out << " (K=" << k
              << ", mean effective sample size " << std::fixed << std::setprecision(1)
              << imp.effective_sample_size.mean().item<double>() << ")\n";
    return 0;
  };
}

}  // namespace elbo::cli
