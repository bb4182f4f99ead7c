#pragma once
// A Bayesian GRU run's forecast past the end of its training rows (elbo forecast, Run.forecast).
#include "elbo/data/series.h"
#include "elbo/diag/forecast.h"
#include "elbo/run/run_directory.h"

#include <string>
#include <vector>

namespace elbo::run {

struct Forecast {
  data::Series series;        ///< the run's series (data.train), in the file's units
  torch::Tensor paths;        ///< [draws, horizon, C] float64 in the file's units
  torch::Tensor truth;        ///< [known, C] the held-out rows after the training ones (known <= horizon)
  /// [horizon] the file's times where it has rows, then steps of the training rows' mean spacing
  std::vector<double> times;
  std::vector<diag::ForecastScores> scores;  ///< per value column: quantiles, and scores against the truth
  int64_t window = 0;         ///< the model's context window
};

/// `draws` paths of `horizon` steps from a brnn run (model/brnn.h), each its own weight draw,
/// continuing the last window of training rows (seeded with `seed`); differences and
/// standardization (data.difference, data/series.h) are undone. A run of another family is
/// refused; `caller` names the command in that error.
Forecast forecast(const LoadedRun& run, int64_t horizon, int64_t draws, uint64_t seed, const std::string& caller);

}  // namespace elbo::run
