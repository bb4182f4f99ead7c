#include "predictive.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/data/load.h"
#include "elbo/diag/classification.h"
#include "elbo/diag/regression.h"
#include "elbo/model/bnn.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace elbo::cli {

using namespace elbo::run;
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int predict_outputs(LoadedRun& run, const PredictiveOptions& o) {
  const Config& c = run.config;
  model::Model& model = *run.model;
  const data::Splits splits = data::load_data(c);
  data::Dataset rows = splits.test;
  if (!o.data.empty()) {
    rows = data::read_examples(c, o.data);
    if (splits.standardization.mean.defined()) data::apply_standardization(rows, splits.standardization);
    if (rows.target.defined() && splits.target_standardization.mean.defined())
      rows.target = (rows.target - splits.target_standardization.mean) / splits.target_standardization.std;
  }
  ELBO_CHECK(rows.features() == model.features(), "elbo predict: '", rows.name, "' has ", rows.features(),
             " features per row; the run's model reads ", model.features());
  const int64_t draws = o.draws > 0 ? o.draws : run.weight_draws();
  auto* bnn = dynamic_cast<model::BnnImpl*>(&model);
  if (bnn) bnn->set_draws(draws);
  const std::string out = o.out.empty() ? run.dir + "/predictions.csv" : o.out;
  ELBO_CHECK(ends_with(out, ".csv"), "elbo predict --out '", out, "' must end in .csv");
  std::ostringstream csv;
  csv.precision(8);
  const auto start = std::chrono::steady_clock::now();
  Json json{{"examples", rows.size()}, {"draws", bnn ? draws : 1}};
  if (model.has_classifier()) {
    const torch::Tensor log_p = diag::class_log_probabilities(model, rows);
    const double seconds = seconds_since(start);
    const torch::Tensor p = log_p.exp();
    const torch::Tensor entropy = -(p * log_p.clamp_min(-1e300)).nan_to_num(0).sum(1);
    const int64_t classes = p.size(1);
    for (int64_t j = 0; j < classes; ++j) csv << "p" << j << ",";
    csv << "entropy" << (rows.y.defined() ? ",label" : "") << "\n";
    for (int64_t i = 0; i < rows.size(); ++i) {
      for (int64_t j = 0; j < classes; ++j) csv << p[i][j].item<double>() << ",";
      csv << entropy[i].item<double>();
      if (rows.y.defined()) csv << "," << rows.y[i].item<int64_t>();
      csv << "\n";
    }
    if (rows.y.defined()) {
      const torch::Tensor y = rows.y.cpu();
      json["error"] = (log_p.argmax(1) != y).to(torch::kDouble).mean().item<double>();
      json["nll"] = -log_p.gather(1, y.unsqueeze(1)).mean().item<double>();
      json["ece"] = diag::expected_calibration_error(p, y);
    }
    json["mean_entropy"] = entropy.mean().item<double>();
    json["predict_examples_per_s"] = static_cast<double>(rows.size()) / std::max(1e-9, seconds);
  } else {
    ELBO_CHECK(bnn, "elbo predict: a ", run.family(), " run has no predictive distribution p(y | x)");
    diag::RegressionPrediction p = diag::predict_regression(*bnn, rows, draws);
    const double seconds = seconds_since(start);
    const data::Standardization& s = splits.target_standardization;
    to_original_units(p, s);
    const torch::Tensor target = rows.target.defined() ? original_units(rows.target, s) : torch::Tensor();
    const int64_t t = p.mean.size(1);
    const char* columns[] = {"mean", "sd", "q05", "q25", "q50", "q75", "q95", "target"};
    for (int64_t j = 0; j < t; ++j)
      for (int k = 0; k < (target.defined() ? 8 : 7); ++k)
        csv << (j || k ? "," : "") << (t > 1 ? "t" + std::to_string(j + 1) + "_" : "") << columns[k];
    csv << "\n";
    for (int64_t i = 0; i < rows.size(); ++i) {
      for (int64_t j = 0; j < t; ++j) {
        csv << (j ? "," : "") << p.mean[i][j].item<double>() << "," << p.sd[i][j].item<double>();
        for (int64_t q = 0; q < 5; ++q) csv << "," << p.quantiles[q][i][j].item<double>();
        if (target.defined()) csv << "," << target[i][j].item<double>();
      }
      csv << "\n";
    }
    if (target.defined()) {
      const diag::RegressionScores scores = diag::score_regression(p, target);
      const Json scored = diag::to_json(scores);
      for (const auto& [key, value] : scored.items())
        if (key != "examples") json[key] = value;
    }
    json["predict_examples_per_s"] = static_cast<double>(rows.size()) / std::max(1e-9, seconds);
  }
  write_file_atomic(out, csv.str());
  std::fprintf(stderr, "elbo: wrote the predictive distribution of %lld rows of '%s' to %s\n",
               static_cast<long long>(rows.size()), rows.name.c_str(), out.c_str());
  std::cout << json.dump() << "\n";
  return 0;
}

}  // namespace elbo::cli
