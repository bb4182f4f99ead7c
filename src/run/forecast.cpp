#include "elbo/run/forecast.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/report/format.h"
#include "elbo/model/brnn.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace elbo::run {

Forecast forecast(model::Model& model, const Config& config, data::Series series, int64_t horizon, int64_t draws,
                  uint64_t seed, const std::string& caller) {
  ELBO_CHECK(horizon >= 1, caller, ": the horizon must be >= 1 (got ", horizon, ")");
  ELBO_CHECK(draws >= 2, caller, ": draws must be >= 2 (got ", draws, ")");
  auto* brnn = dynamic_cast<model::BrnnImpl*>(&model);
  ELBO_CHECK(brnn, caller, ": the run holds a model.type = \"", config.get_string("model.type"),
             "\" model; forecasts continue a brnn run on a series (data.format = \"series\")");
  Forecast f;
  f.series = std::move(series);
  const data::Series& s = f.series;
  const data::SeriesScale scale = data::series_scale(s, config.get_int("data.difference"));
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

Forecast forecast(const LoadedRun& run, int64_t horizon, int64_t draws, uint64_t seed, const std::string& caller) {
  ELBO_CHECK(run.family() == "brnn", caller, ": '", run.dir, "' holds a model.type = \"", run.family(),
             "\" run; forecasts continue a brnn run on a series (data.format = \"series\")");
  return forecast(*run.model, run.config, data::read_series(run.config), horizon, draws, seed, caller);
}

std::string forecast_csv(const Forecast& f) {
  const data::Series& s = f.series;
  const int64_t horizon = f.paths.size(1), known = f.truth.size(0);
  std::ostringstream csv;
  csv.precision(8);
  csv << "step,time";
  for (const auto& name : s.names) {
    const std::string p = s.names.size() > 1 ? name + "_" : "";
    csv << "," << p << "truth," << p << "mean," << p << "q05," << p << "q25," << p << "q50," << p << "q75," << p << "q95";
  }
  csv << "\n";
  const torch::Tensor means = f.paths.mean(0);  // [H, C]
  for (int64_t t = 0; t < horizon; ++t) {
    csv << t + 1 << "," << f.times[t];
    for (size_t ch = 0; ch < s.names.size(); ++ch) {
      csv << ",";
      if (t < known) csv << f.truth[t][ch].item<double>();
      csv << "," << means[t][ch].item<double>();
      for (int64_t q = 0; q < 5; ++q) csv << "," << f.scores[ch].quantiles[q][t].item<double>();
    }
    csv << "\n";
  }
  return csv.str();
}

std::vector<report::LinePlot> forecast_plots(const Forecast& f) {
  const auto values = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  const data::Series& s = f.series;
  const int64_t horizon = f.paths.size(1), known = f.truth.size(0), draws = f.paths.size(0);
  const int64_t shown = std::min<int64_t>(s.train_end, std::max<int64_t>(3 * horizon, 2 * f.window));
  const std::vector<double> history_time(s.time.begin() + (s.train_end - shown), s.time.begin() + s.train_end);
  std::vector<report::LinePlot> plots;
  for (size_t ch = 0; ch < s.names.size(); ++ch) {
    report::LinePlot plot{"Forecast of " + s.names[ch] + " (" + std::to_string(draws) + " paths)", "time", s.names[ch], {}};
    const torch::Tensor& q = f.scores[ch].quantiles;
    plot.series.push_back({"90% band", f.times, values(q[4]), false, values(q[0])});
    plot.series.push_back({"50% band", f.times, values(q[3]), false, values(q[1])});
    plot.series.push_back(
        {"history", history_time, values(s.values.slice(0, s.train_end - shown, s.train_end).select(1, ch)), false, {}});
    if (known > 0)
      plot.series.push_back({"held-out truth", std::vector<double>(f.times.begin(), f.times.begin() + known),
                             values(f.truth.select(1, ch)), false, {}});
    plot.series.push_back({"median", f.times, values(q[2]), false, {}});
    plots.push_back(std::move(plot));
  }
  return plots;
}

report::Section forecast_section(model::Model& model, const Config& config) {
  constexpr int64_t kDraws = 1000;
  data::Series series = data::read_series(config);
  const int64_t held_out = series.values.size(0) - series.train_end;
  const Forecast f = forecast(model, config, std::move(series), held_out, kDraws,
                              static_cast<uint64_t>(config.get_int("train.seed")), "elbo report");
  report::Section section{"Forecast",
                          std::to_string(kDraws) + " sample paths, each its own draw of the weights, continue the last "
                          "window of training rows over the " + std::to_string(held_out) + " held-out rows "
                          "(elbo forecast RUN --horizon " + std::to_string(held_out) + " writes their quantiles). "
                          "Coverage: the fraction of held-out rows inside the band; CRPS in the series' units.",
                          {}, {}, {}};
  const std::vector<report::LinePlot> plots = forecast_plots(f);
  for (size_t ch = 0; ch < plots.size(); ++ch) {
    const diag::ForecastScores& sc = f.scores[ch];
    const std::string p = plots.size() > 1 ? f.series.names[ch] + ": " : "";
    section.table.push_back({p + "coverage of the 50% / 90% bands",
                             report::fixed(sc.coverage50) + " / " + report::fixed(sc.coverage90)});
    section.table.push_back({p + "CRPS (mean over the steps)", report::fixed(sc.crps, 4)});
    section.table.push_back({p + "mean absolute error of the median", report::fixed(sc.mae, 4)});
    for (const auto& [horizon, width] : sc.width90)
      section.table.push_back({p + "90% band width at step " + std::to_string(horizon), report::fixed(width, 4)});
    section.charts.push_back(report::line_chart(plots[ch], 720, 360));
  }
  return section;
}

}  // namespace elbo::run
