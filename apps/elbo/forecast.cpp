// elbo forecast: sample paths of a Bayesian GRU past the end of its training series.
#include "commands.h"
#include "elbo/run/forecast.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
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
    const LoadedRun run = load_run(args->run);
    const std::string out = args->out.empty() ? run.dir + "/forecast.csv" : args->out;
    ELBO_CHECK(ends_with(out, ".csv"), "elbo forecast --out '", out, "' must end in .csv");
    const Forecast f = forecast(run, args->horizon, args->draws, static_cast<uint64_t>(args->seed), "elbo forecast");
    const data::Series& s = f.series;
    const torch::Tensor& paths = f.paths;
    const torch::Tensor& truth = f.truth;
    const std::vector<double>& times = f.times;
    const std::vector<diag::ForecastScores>& scores = f.scores;
    const int64_t h = args->horizon, known = truth.size(0), window = f.window;
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
