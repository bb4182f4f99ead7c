// elbo forecast: sample paths of a Bayesian GRU past the end of its training series.
#include "commands.h"
#include "elbo/run/forecast.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/report/plot.h"

#include <iostream>

namespace elbo::cli {

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
    write_file_atomic(out, forecast_csv(f));
    const std::string svg = out.substr(0, out.size() - 4) + ".svg";
    std::string svgs;
    const std::vector<report::LinePlot> plots = forecast_plots(f);
    for (size_t ch = 0; ch < plots.size(); ++ch) {
      std::cout << Json{{"series", f.series.names[ch]}, {"horizon", args->horizon}, {"draws", args->draws},
                        {"scores", diag::to_json(f.scores[ch])}}.dump()
                << "\n";
      svgs += report::render_svg(plots[ch], 720, 360);
    }
    write_file_atomic(svg, svgs);
    std::cerr << "elbo: wrote " << args->draws << " paths' quantiles for " << args->horizon << " steps to " << out
              << " and the picture to " << svg << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
