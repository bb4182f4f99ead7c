#pragma once
// elbo predict for a model with a predictive distribution p(y | x) (bnn, classifier).
#include "elbo/run/run_directory.h"

#include <string>

namespace elbo::cli {

struct PredictiveOptions {
  std::string data;  ///< rows to predict (IDX images or a CSV in the run's format); "" = the test split
  std::string out;   ///< CSV path
  int64_t draws = 0; ///< weight draws (0 = eval.draws of the run)
};

/// Writes per row the class probabilities and predictive entropy (classifiers) or the predictive
/// mean, standard deviation and 5/25/50/75/95% quantiles in the data's units (regression), and
/// prints one JSON line: examples, predict_examples_per_s and, where the rows have labels or
/// targets, error, nll and ece or rmse, nll, coverage50 and coverage90.
int predict_outputs(run::LoadedRun& run, const PredictiveOptions& options);

}  // namespace elbo::cli
