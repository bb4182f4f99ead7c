#include "elbo/run/forecast.h"

#include "elbo/core/check.h"
#include "elbo/model/brnn.h"

#include <algorithm>

namespace elbo::run {

Forecast forecast(const LoadedRun& run, int64_t horizon, int64_t draws, uint64_t seed, const std::string& caller) {
  ELBO_CHECK(horizon >= 1, caller, ": the horizon must be >= 1 (got ", horizon, ")");
  ELBO_CHECK(draws >= 2, caller, ": draws must be >= 2 (got ", draws, ")");
  auto* brnn = dynamic_cast<model::BrnnImpl*>(run.model.get());
  ELBO_CHECK(brnn, caller, ": '", run.dir, "' holds a model.type = \"", run.family(),
             "\" run; forecasts continue a brnn run on a series (data.format = \"series\")");
  Forecast f;
  f.series = data::read_series(run.config);
  const data::Series& s = f.series;
  const data::SeriesScale scale = data::series_scale(s, run.config.get_int("data.difference"));
  const torch::Tensor z = scale.to_model(s.values);
  const int64_t end = s.train_end - scale.lag;
  f.window = brnn->options().window;
  const torch::Tensor context = z.slice(0, std::max<int64_t>(0, end - f.window), end).to(torch::kFloat);
  torch::manual_seed(seed);
  {
    torch::NoGradGuard no_grad;
    brnn->eval();
    f.paths = brnn->forecast(context, horizon, draws);  // [S, H, C] model units
  }
  f.paths = scale.to_file(f.paths, s.values.slice(0, 0, s.train_end));  // file units, float64
  const int64_t known = std::min<int64_t>(horizon, s.values.size(0) - s.train_end);
  f.truth = s.values.slice(0, s.train_end, s.train_end + known);
  const double step =
      (s.time[s.train_end - 1] - s.time[0]) / static_cast<double>(std::max<int64_t>(1, s.train_end - 1));
  for (int64_t t = 0; t < horizon; ++t)
    f.times.push_back(t < known ? s.time[s.train_end + t] : (known ? f.times.back() : s.time[s.train_end - 1]) + step);
  for (size_t ch = 0; ch < s.names.size(); ++ch)
    f.scores.push_back(diag::score_forecast(f.paths.select(2, ch), f.truth.select(1, ch)));
  return f;
}

}  // namespace elbo::run
