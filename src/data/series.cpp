#include "elbo/data/series.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/data/csv.h"
#include "elbo/data/load.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace elbo::data {

SeriesOptions SeriesOptions::from_config(const Config& c) {
  SeriesOptions o;
  o.time_column = c.get_string("data.time_column");
  o.value_columns = c.get_string("data.value_columns");
  o.test_from = c.get_double("data.test_from");
  o.window = c.get_int("data.window");
  o.stride = c.get_int("data.stride");
  o.difference = c.get_int("data.difference");
  o.fill = c.get_string("data.fill") == "linear";
  return o;
}

namespace {

/// Fills the missing entries (mask 0) of column `v` [T] by linear interpolation in time; the
/// ends take the nearest observed value. Returns how many were filled.
int64_t fill_linear(std::vector<double>& v, const std::vector<bool>& observed, const std::vector<double>& time,
                    const std::string& what) {
  const int64_t n = static_cast<int64_t>(v.size());
  int64_t previous = -1, filled = 0;
  for (int64_t i = 0; i <= n; ++i) {
    if (i < n && !observed[i]) continue;
    for (int64_t j = previous + 1; j < i; ++j, ++filled) {
      ELBO_CHECK(previous >= 0 || i < n, what, ": no observed value to fill from");
      if (previous < 0) v[j] = v[i];
      else if (i == n) v[j] = v[previous];
      else v[j] = v[previous] + (v[i] - v[previous]) * (time[j] - time[previous]) / (time[i] - time[previous]);
    }
    previous = i;
  }
  return filled;
}

}  // namespace

Series read_series(const Config& c) {
  const SeriesOptions o = SeriesOptions::from_config(c);
  const std::string path = data_path(c, c.get_string("data.train"));
  const Dataset table = read_table(c, path, /*labels=*/false);
  const std::vector<int64_t> time_column = column_indices(table, o.time_column, "data.time_column");
  ELBO_CHECK(time_column.size() == 1, "data.time_column must name one column of '", path, "' (got ", time_column.size(), ")");
  std::vector<int64_t> value_columns = column_indices(table, o.value_columns, "data.value_columns");
  if (o.value_columns.empty())
    for (int64_t j = 0; j < table.features(); ++j)
      if (j != time_column[0]) value_columns.push_back(j);
  ELBO_CHECK(!value_columns.empty(), "data.value_columns: '", path, "' has no value column besides the time");
  const int64_t skip = c.get_int("data.skip_rows") + (table.feature_names.empty() ? 0 : 1);  // file line = row + skip + 1
  const torch::Tensor x = table.x.to(torch::kDouble);
  const torch::Tensor mask = table.mask.defined() ? table.mask : torch::ones_like(table.x);
  Series s;
  s.name = path;
  const int64_t rows = table.size();
  for (int64_t i = 0; i < rows; ++i) {
    ELBO_CHECK(mask[i][time_column[0]].item<double>() > 0, path, ":", i + skip + 1, ": the time (data.time_column) is missing");
    s.time.push_back(x[i][time_column[0]].item<double>());
    ELBO_CHECK(i == 0 || s.time[i] > s.time[i - 1], path, ":", i + skip + 1, ": time ", s.time[i],
               " does not increase (the row before has ", i ? s.time[i - 1] : 0.0, "); sort the series by time");
  }
  std::vector<torch::Tensor> columns;
  for (int64_t j : value_columns) {
    const std::string what =
        "column '" + (table.feature_names.empty() ? std::to_string(j + 1) : table.feature_names[j]) + "'";
    s.names.push_back(table.feature_names.empty() ? "value" + std::to_string(j + 1) : table.feature_names[j]);
    std::vector<double> v(rows);
    std::vector<bool> observed(rows);
    for (int64_t i = 0; i < rows; ++i) {
      observed[i] = mask[i][j].item<double>() > 0;
      v[i] = x[i][j].item<double>();
      ELBO_CHECK(observed[i] || o.fill, path, ":", i + skip + 1, ": ", what, " is missing; set data.fill = \"linear\" "
                 "to interpolate missing values in time");
    }
    s.filled += fill_linear(v, observed, s.time, path + ", " + what);
    columns.push_back(torch::tensor(v, torch::kDouble));
  }
  s.values = torch::stack(columns, 1);
  s.train_end = std::lower_bound(s.time.begin(), s.time.end(), o.test_from) - s.time.begin();
  ELBO_CHECK(s.train_end >= o.window + o.difference, path, ": ", s.train_end, " rows before data.test_from = ",
             o.test_from, " are fewer than one window of data.window = ", o.window, " steps (after differencing at lag ",
             o.difference, ")");
  return s;
}

namespace {

/// x_t - x_{t-lag} for rows t >= lag (lag 0: the values).
torch::Tensor differences(const torch::Tensor& values, int64_t lag) {
  return lag > 0 ? values.slice(0, lag) - values.slice(0, 0, -lag) : values;
}

}  // namespace

torch::Tensor SeriesScale::to_model(const torch::Tensor& values) const { return (differences(values, lag) - mean) / std; }

torch::Tensor SeriesScale::to_file(const torch::Tensor& paths, const torch::Tensor& history) const {
  const torch::Tensor v = paths.to(torch::kDouble) * std + mean;  // [S, H, C]
  if (lag == 0) return v;
  ELBO_CHECK(history.size(0) >= lag, "elbo::data::SeriesScale: differences at lag ", lag, " need ", lag,
             " rows of history (got ", history.size(0), ")");
  std::vector<torch::Tensor> levels;
  const torch::Tensor last = history.slice(0, history.size(0) - lag).to(torch::kDouble);  // [lag, C]
  for (int64_t h = 0; h < v.size(1); ++h) {
    const torch::Tensor before = h < lag ? last[h].expand({v.size(0), v.size(2)}) : levels[h - lag];
    levels.push_back(before + v.select(1, h));
  }
  return torch::stack(levels, 1);
}

SeriesScale series_scale(const Series& s, int64_t lag) {
  ELBO_CHECK(lag >= 0 && lag < s.train_end - 1, "data.difference = ", lag, " must be in 0..", s.train_end - 2,
             " (the training rows of '", s.name, "')");
  SeriesScale scale;
  scale.lag = lag;
  const torch::Tensor v = differences(s.values.slice(0, 0, s.train_end), lag);
  scale.mean = v.mean(0);
  scale.std = v.std(0).clamp_min(1e-12);
  return scale;
}

Dataset series_windows(const torch::Tensor& z, int64_t begin, int64_t end, int64_t window, int64_t stride,
                       const std::string& name) {
  ELBO_CHECK(window >= 2 && stride >= 1, "data.window must be >= 2 and data.stride >= 1 (got ", window, ", ", stride, ")");
  std::vector<torch::Tensor> rows;
  for (int64_t t = begin; t + window <= end; t += stride) rows.push_back(z.slice(0, t, t + window).reshape({-1}));
  ELBO_CHECK(!rows.empty(), name, ": rows ", begin, "..", end, " hold no window of ", window, " steps");
  Dataset d;
  d.x = torch::stack(rows).to(torch::kFloat);
  d.name = name;
  return d;
}

namespace {

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

SeriesSplits series_splits(const Config& c) {
  const SeriesOptions o = SeriesOptions::from_config(c);
  const Series s = read_series(c);
  const SeriesScale scale = series_scale(s, o.difference);
  const torch::Tensor z = scale.to_model(s.values);  // [T - lag, C]
  const int64_t train_end = s.train_end - o.difference, end = z.size(0);
  SeriesSplits out;
  out.train = series_windows(z, 0, train_end, o.window, o.stride, s.name + " (before " + number(o.test_from) + ")");
  ELBO_CHECK(end > train_end, s.name, ": no row has a time >= data.test_from = ", o.test_from, " (nothing held out)");
  out.test = series_windows(z, std::max<int64_t>(0, std::min(train_end, end - o.window)), end, o.window, 1,
                            s.name + " (from " + number(o.test_from) + ")");
  return out;
}

}  // namespace elbo::data
