#include "elbo/run/sweep.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/json.h"
#include "elbo/data/load.h"
#include "elbo/report/format.h"
#include "elbo/report/html.h"
#include "elbo/report/plot.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/train_run.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace elbo::run {
namespace {

bool same_file_content(const std::string& path, const std::string& text) {
  return ::access(path.c_str(), R_OK) == 0 && read_file(path) == text;
}

/// Trains (or reuses, or resumes) one run of the sweep; returns train_run's status.
int train_point(const Config& config, const std::string& dir) {
  const bool same_config = same_file_content(dir + "/config.toml", config.to_toml());
  if (same_config && ::access((dir + "/evaluation.json").c_str(), R_OK) == 0) {
    std::fprintf(stderr, "elbo sweep: %s is done (same config): reused\n", dir.c_str());
    return 0;
  }
  TrainRunOptions o;
  o.resume = same_config && ::access(checkpoint_path(dir).c_str(), R_OK) == 0;
  o.stop_on_signals = true;
  return train_run(config, dir, o);
}

}  // namespace

Sweep sweep(const Config& base, const std::string& key, const std::vector<std::string>& values, const std::string& out,
            int64_t n) {
  ensure_writable_dir(out);
  const std::string name = key.substr(key.rfind('.') + 1);
  Sweep s;
  s.key = key;
  for (const auto& value : values) {
    Config config = base;
    config.set(key + "=" + value);
    SweepPoint p;
    p.value = value;
    p.dir = out + "/" + name + "=" + value;
    std::fprintf(stderr, "elbo sweep: %s = %s -> %s\n", key.c_str(), value.c_str(), p.dir.c_str());
    if ((s.status = train_point(config, p.dir)) != 0) return s;
    LoadedRun run = load_run(p.dir);
    data::Dataset test = data::load_test_data(run.config);
    const int64_t rows = n >= 0 ? n : run.config.get_int("eval.n");
    if (rows > 0 && rows < test.size()) test = test.subset(torch::arange(rows, torch::kLong));
    diag::InformationOptions io;
    io.seed = run.seed();
    p.info = diag::estimate_information(*run.model, test, io);
    s.points.push_back(std::move(p));
  }
  auto& points = s.points;
  std::sort(points.begin(), points.end(), [](const SweepPoint& a, const SweepPoint& b) { return a.info.rate < b.info.rate; });
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].slope = std::nan("");
    if (i + 1 < points.size())
      points[i].slope = -(points[i + 1].info.distortion - points[i].info.distortion) /
                        (points[i + 1].info.rate - points[i].info.rate);
  }

  write_file_atomic(out + "/sweep.json", to_json(s).dump(2) + "\n");
  report::LinePlot plot{"Rate-distortion (" + key + " sweep)", "rate R (nats)", "distortion D (nats)", {}};
  report::Series curve{"", {}, {}};
  std::ostringstream table;
  table << "  " << std::left << std::setw(12) << name << std::right << std::setw(10) << "rate" << std::setw(12)
        << "distortion" << std::setw(12) << "R + D" << std::setw(10) << "I(x;z)" << std::setw(14) << "-dD/dR next"
        << "\n";
  report::Section section{"Rate-distortion", "", {}, {}, {}};
  section.text = "Each point is one run trained with " + key + " set as shown; rate R = E KL(q(z|x) || p(z)), "
                 "distortion D = -E log p(x|z) on the test examples (R + D = -ELBO). The slope -dD/dR between "
                 "neighbouring points estimates the beta at which the curve is reached.";
  for (const SweepPoint& p : points) {
    curve.x.push_back(p.info.rate);
    curve.y.push_back(p.info.distortion);
    table << "  " << std::left << std::setw(12) << p.value << std::right << std::setw(10) << report::fixed(p.info.rate, 2)
          << std::setw(12) << report::fixed(p.info.distortion, 2) << std::setw(12)
          << report::fixed(p.info.rate + p.info.distortion, 2) << std::setw(10) << report::fixed(p.info.mutual_information, 2)
          << std::setw(14) << (std::isfinite(p.slope) ? report::fixed(p.slope, 2) : "-") << "\n";
    section.table.push_back({name + " = " + p.value,
                             "R " + report::fixed(p.info.rate, 2) + " ± " + report::fixed(p.info.rate_se, 2) + ", D " +
                                 report::fixed(p.info.distortion, 2) + " ± " + report::fixed(p.info.distortion_se, 2) +
                                 ", I(x;z) " + report::fixed(p.info.mutual_information, 2) +
                                 (std::isfinite(p.slope) ? ", -dD/dR to next " + report::fixed(p.slope, 2) : "")});
  }
  plot.series.push_back(curve);
  const report::Chart chart = report::line_chart(plot);
  write_file_atomic(out + "/rate_distortion.svg", chart.svg);
  section.charts.push_back(chart);
  report::write_html_report(out + "/report.html", "elbo sweep " + key, {section});
  s.table = table.str();
  return s;
}

Json to_json(const Sweep& s) {
  Json out{{"key", s.key}, {"points", Json::array()}};
  for (const SweepPoint& p : s.points)
    out["points"].push_back({{"value", p.value}, {"run", p.dir}, {"information", diag::to_json(p.info)}, {"slope", p.slope}});
  return out;
}

}  // namespace elbo::run
