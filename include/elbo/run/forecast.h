#pragma once
// A Bayesian GRU run's forecast past the end of its training rows (elbo forecast, Run.forecast).
#include "elbo/data/series.h"
#include "elbo/diag/forecast.h"
#include "elbo/report/html.h"
#include "elbo/report/plot.h"
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

/// `draws` paths of `horizon` steps from a brnn model (model/brnn.h) trained with `config` on
/// `series` (data::read_series(config)), each its own weight draw, continuing the last window of
/// training rows (seeded with `seed`); differences and standardization (data.difference,
/// data/series.h) are undone. A model of another family is refused; `caller` names the command in
/// that error.
Forecast forecast(model::Model& model, const Config& config, data::Series series, int64_t horizon, int64_t draws,
                  uint64_t seed, const std::string& caller);
/// The same for a loaded run, its series read (its directory named where it is not a brnn run).
Forecast forecast(const LoadedRun& run, int64_t horizon, int64_t draws, uint64_t seed, const std::string& caller);

/// Per step: the time, then for each series (its name as a prefix when there are several) the
/// held-out truth (empty past it), the mean and the 5/25/50/75/95% quantiles.
std::string forecast_csv(const Forecast& f);

/// One picture per series: the last stretch of history (3 horizons or 2 windows), the held-out
/// truth, the median and the 50% and 90% bands.
std::vector<report::LinePlot> forecast_plots(const Forecast& f);

/// The report's section of a brnn run: 1000 paths over its held-out rows (seeded with the run's
/// train.seed), their scores per series and the pictures of forecast_plots.
report::Section forecast_section(model::Model& model, const Config& config);

}  // namespace elbo::run
