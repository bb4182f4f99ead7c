// elbo forecast: sample paths of a Bayesian GRU past the end of its training series.
#include "commands.h"
#include "elbo/run/run_directory.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/data/series.h"
#include "elbo/diag/forecast.h"
#include "elbo/model/brnn.h"
#include "elbo/report/plot.h"

#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

Action add_forecast(CLI::App& app) {
  struct Args {
    std::string run, out;
    int64_t horizon = 0, draws = 1000, seed = 1;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory of a brnn run on a series")->required();
  app.add_option("--horizon", args->horizon, "steps to forecast after the last training row")->required();
  app.add_option("--draws", args->draws, "sample paths (each its own draw of the weights)")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000000));
  app.add_option("--out", args->out, "output .csv: per step the time, the held-out truth, the mean and the "
                 "5/25/50/75/95% quantiles (default RUN/forecast.csv; the picture goes beside it as .svg)");
  app.add_option("--seed", args->seed, "seed of the paths")->capture_default_str();
  return [args]() -> int {
    ELBO_CHECK(args->horizon >= 1, "elbo forecast: --horizon must be >= 1 (got ", args->horizon, ")");
    LoadedRun run = load_run(args->run);
    const Config& c = run.config;
    auto* brnn = dynamic_cast<model::BrnnImpl*>(run.model.get());
    ELBO_CHECK(brnn, "elbo forecast: '", run.dir, "' holds a model.type = \"", c.get_string("model.type"),
               "\" run; forecasts continue a brnn run on a series (data.format = \"series\")");
    const std::string out = args->out.empty() ? run.dir + "/forecast.csv" : args->out;
    ELBO_CHECK(ends_with(out, ".csv"), "elbo forecast --out '", out, "' must end in .csv");
    const data::Series s = data::read_series(c);
    const data::SeriesScale scale = data::series_scale(s, c.get_int("data.difference"));
    const torch::Tensor z = scale.to_model(s.values);
    const int64_t end = s.train_end - scale.lag, window = brnn->options().window;
    const torch::Tensor context = z.slice(0, std::max<int64_t>(0, end - window), end).to(torch::kFloat);
    torch::manual_seed(static_cast<uint64_t>(args->seed));
    torch::Tensor paths;
    {
      torch::NoGradGuard no_grad;
      brnn->eval();
      paths = brnn->forecast(context, args->horizon, args->draws);  // [S, H, C] model units
    }
    paths = scale.to_file(paths, s.values.slice(0, 0, s.train_end));  // file units, float64
    const int64_t h = args->horizon, known = std::min<int64_t>(h, s.values.size(0) - s.train_end);
    const torch::Tensor truth = s.values.slice(0, s.train_end, s.train_end + known);  // [H', C]
    // Times: the file's where it has rows, then steps of the training rows' mean spacing.
    const double step = (s.time[s.train_end - 1] - s.time[0]) / static_cast<double>(std::max<int64_t>(1, s.train_end - 1));
    std::vector<double> times;
    for (int64_t t = 0; t < h; ++t)
      times.push_back(t < known ? s.time[s.train_end + t] : (known ? times.back() : s.time[s.train_end - 1]) + step);
    std::vector<diag::ForecastScores> scores;
    for (size_t ch = 0; ch < s.names.size(); ++ch)
      scores.push_back(diag::score_forecast(paths.select(2, ch), truth.select(1, ch)));
    std::ostringstream csv;
    csv.precision(8);
    csv << "step,time";
    for (const auto& name : s.names) {
      const std::string p = s.names.size() > 1 ? name + "_" : "";
      csv << "," << p << "truth," << p << "mean," << p << "q05," << p << "q25," << p << "q50," << p << "q75," << p << "q95";
    }
    csv << "\n";
    const torch::Tensor means = paths.mean(0);  // [H, C]
    for (int64_t t = 0; t < h; ++t) {
      csv << t + 1 << "," << times[t];
      for (size_t ch = 0; ch < s.names.size(); ++ch) {
        csv << ",";
        if (t < known) csv << truth[t][ch].item<double>();
        csv << "," << means[t][ch].item<double>();
        for (int64_t q = 0; q < 5; ++q) csv << "," << scores[ch].quantiles[q][t].item<double>();
      }
      csv << "\n";
    }
    write_file_atomic(out, csv.str());
    // One picture per series: the last stretch of history, the truth, the median and the bands.
    const std::string svg = out.substr(0, out.size() - 4) + ".svg";
    std::string svgs;
    const int64_t shown = std::min<int64_t>(s.train_end, std::max<int64_t>(3 * h, 2 * window));
    const std::vector<double> history_time(s.time.begin() + (s.train_end - shown), s.time.begin() + s.train_end);
    for (size_t ch = 0; ch < s.names.size(); ++ch) {
      std::cout << Json{{"series", s.names[ch]}, {"horizon", h}, {"draws", args->draws}, {"scores", diag::to_json(scores[ch])}}.dump()
                << "\n";
      report::LinePlot plot{"Forecast of " + s.names[ch] + " (" + std::to_string(args->draws) + " paths)", "time",
                            s.names[ch], {}};
      const torch::Tensor& q = scores[ch].quantiles;
      plot.series.push_back({"90% band", times, to_vector(q[4]), false, to_vector(q[0])});
      plot.series.push_back({"50% band", times, to_vector(q[3]), false, to_vector(q[1])});
      plot.series.push_back({"history", history_time, to_vector(s.values.slice(0, s.train_end - shown, s.train_end).select(1, ch)), false, {}});
      if (known > 0)
        plot.series.push_back({"held-out truth", std::vector<double>(times.begin(), times.begin() + known),
                               to_vector(truth.select(1, ch)), false, {}});
      plot.series.push_back({"median", times, to_vector(q[2]), false, {}});
      svgs += report::render_svg(plot, 720, 360);
    }
    write_file_atomic(svg, svgs);
    std::cerr << "elbo: wrote " << args->draws << " paths' quantiles for " << h << " steps to " << out
              << " and the picture to " << svg << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
