#pragma once
#include "elbo/data/dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo {
class Config;
}

namespace elbo::data {

/// How a time series is read and cut into windows (data.format = "series").
struct SeriesOptions {
  std::string time_column = "1";  ///< data.time_column: a header name or 1-based index; strictly increasing
  std::string value_columns;      ///< data.value_columns: names, indices or ranges ("" = every other column)
  double test_from = 0;           ///< data.test_from: rows with time >= this are held out (the forecast's truth)
  int64_t window = 2;             ///< data.window: steps per training window
  int64_t stride = 1;             ///< data.stride: steps between window starts
  int64_t difference = 0;         ///< data.difference: model x_t - x_{t-lag} at this lag (0 = the values)
  bool fill = false;              ///< data.fill = "linear": interpolate missing values in time (else an error)

  static SeriesOptions from_config(const Config& config);
};

/// A multivariate time series read from a CSV table.
struct Series {
  std::vector<double> time;        ///< [T], strictly increasing
  torch::Tensor values;            ///< [T, C] float64 in the file's units
  std::vector<std::string> names;  ///< the value columns' names
  int64_t train_end = 0;           ///< rows [0, train_end) are training data, [train_end, T) held out
  int64_t filled = 0;              ///< values filled by interpolation
  std::string name;                ///< the file
};

/// Reads data.train with the config's CSV keys. Errors name the file and line: a time that does
/// not increase, a missing value without data.fill = "linear", fewer than two training rows.
Series read_series(const Config& config);

/// The model's units: values, or their differences x_t - x_{t-lag} (lag 1: a trend removed;
/// lag = the season's length: a trend and a season, Box & Jenkins' seasonal differencing),
/// standardized per column with the training rows' mean and standard deviation.
struct SeriesScale {
  torch::Tensor mean, std;  ///< [C] float64
  int64_t lag = 0;          ///< 0 = no differencing
  /// Rows of `values` [T, C] in model units: [T - lag, C].
  torch::Tensor to_model(const torch::Tensor& values) const;
  /// Model-unit paths [S, H, C] that continue the file-unit rows `history` [>= lag, C] back in
  /// file units: x_{T+h} = x_{T+h-lag} + d_{T+h}, from the history or the path itself.
  torch::Tensor to_file(const torch::Tensor& paths, const torch::Tensor& history) const;
};
SeriesScale series_scale(const Series& series, int64_t lag);

/// Windows of `window` consecutive rows of z [T, C] starting at begin, begin + stride, ... with
/// the window inside [begin, end): x [N, window * C] float32, step-major.
Dataset series_windows(const torch::Tensor& z, int64_t begin, int64_t end, int64_t window, int64_t stride,
                       const std::string& name);

/// The training and test windows of a series in model units: training windows inside the
/// training rows, test windows ending in the held-out rows (starting early enough for one
/// window when the held-out part is shorter than a window).
struct SeriesSplits {
  Dataset train, test;
};
SeriesSplits series_splits(const Config& config);

}  // namespace elbo::data
