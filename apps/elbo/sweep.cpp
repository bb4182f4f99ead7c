// elbo sweep [CONFIG.toml] --key objective.beta --values 0.5,1,2,4 [--set ...] [--out DIR] [--n N]
#include "commands.h"
#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/load.h"
#include "elbo/diag/information.h"
#include "elbo/report/plot.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

struct Point {
  std::string value, dir;
  diag::Information info;
  double slope = 0;  ///< -dD/dR towards the next point by rate (NaN for the last)
};

std::string number(double v, int precision = 3) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

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
  if (same_config && ::access(checkpoint_path(dir).c_str(), R_OK) == 0) {
    const train::CheckpointInfo info = train::read_checkpoint_info(checkpoint_path(dir));
    return train_run(config, dir, &info);
  }
  return train_run(config, dir);
}

std::string to_json(const std::string& key, const std::vector<Point>& points) {
  std::ostringstream o;
  o << "{\"key\": \"" << key << "\", \"points\": [";
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    o << (i ? ", " : "") << "{\"value\": \"" << p.value << "\", \"run\": \"" << p.dir
      << "\", \"information\": " << diag::to_json(p.info) << ", \"slope\": ";
    if (std::isfinite(p.slope)) o << std::setprecision(8) << p.slope;
    else o << "null";
    o << "}";
  }
  o << "]}";
  return o.str();
}

}  // namespace

Action add_sweep(CLI::App& app) {
  struct Args {
    std::string config_path, key = "objective.beta", out = "runs/sweep";
    std::vector<std::string> values, sets;
    int64_t n = -1;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "TOML run config shared by every run (default: the built-in model)")
      ->check(CLI::ExistingFile);
  app.add_option("--key", args->key, "config key to vary")->capture_default_str();
  app.add_option("--values", args->values, "values of the key, e.g. --values 0.5,1,2,4")->required()->delimiter(',');
  app.add_option("--set", args->sets, "override a config key of every run (repeatable)");
  app.add_option("--out", args->out, "directory of the sweep: one run per value, sweep.json, "
                                     "rate_distortion.svg, report.html")
      ->capture_default_str();
  app.add_option("--n", args->n, "test examples for rate and distortion (0 = all; default: eval.n)")
      ->check(CLI::NonNegativeNumber);
  app.footer("Rate R = E KL(q(z|x) || p(z)) and distortion D = -E log p(x|z) of each trained run give the\n"
             "rate-distortion curve (Alemi et al. 2018); for a beta sweep its slope -dD/dR at a point is the beta\n"
             "that reached it. Finished runs with the same config are reused, interrupted ones resumed.");
  return [args]() -> int {
    Config base = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
    for (const auto& s : args->sets) base.set(s);
    ensure_writable_dir(args->out);
    const std::string name = args->key.substr(args->key.rfind('.') + 1);
    std::vector<Point> points;
    for (const auto& value : args->values) {
      Config config = base;
      config.set(args->key + "=" + value);
      Point p;
      p.value = value;
      p.dir = args->out + "/" + name + "=" + value;
      std::fprintf(stderr, "elbo sweep: %s = %s -> %s\n", args->key.c_str(), value.c_str(), p.dir.c_str());
      if (const int status = train_point(config, p.dir); status != 0) return status;
      LoadedRun run = load_run(p.dir);
      data::Dataset test = data::load_test_data(run.config);
      const int64_t n = args->n >= 0 ? args->n : run.config.get_int("eval.n");
      if (n > 0 && n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
      diag::InformationOptions io;
      io.seed = static_cast<uint64_t>(run.config.get_int("train.seed"));
      p.info = diag::estimate_information(*run.model, test, io);
      points.push_back(std::move(p));
    }
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.info.rate < b.info.rate; });
    for (size_t i = 0; i < points.size(); ++i) {
      points[i].slope = std::nan("");
      if (i + 1 < points.size())
        points[i].slope = -(points[i + 1].info.distortion - points[i].info.distortion) /
                          (points[i + 1].info.rate - points[i].info.rate);
    }

    write_file_atomic(args->out + "/sweep.json", to_json(args->key, points) + "\n");
    report::LinePlot plot{"Rate-distortion (" + args->key + " sweep)", "rate R (nats)", "distortion D (nats)", {}};
    report::Series curve{"", {}, {}};
    std::ostringstream table;
    table << "  " << std::left << std::setw(12) << name << std::right << std::setw(10) << "rate" << std::setw(12)
          << "distortion" << std::setw(12) << "R + D" << std::setw(10) << "I(x;z)" << std::setw(14) << "-dD/dR next"
          << "\n";
    report::Section section{"Rate-distortion", "", {}, {}, {}};
    section.text = "Each point is one run trained with " + args->key + " set as shown; rate R = E KL(q(z|x) || p(z)), "
                   "distortion D = -E log p(x|z) on the test examples (R + D = -ELBO). The slope -dD/dR between "
                   "neighbouring points estimates the beta at which the curve is reached.";
    for (const Point& p : points) {
      curve.x.push_back(p.info.rate);
      curve.y.push_back(p.info.distortion);
      table << "  " << std::left << std::setw(12) << p.value << std::right << std::setw(10) << number(p.info.rate, 2)
            << std::setw(12) << number(p.info.distortion, 2) << std::setw(12)
            << number(p.info.rate + p.info.distortion, 2) << std::setw(10) << number(p.info.mutual_information, 2)
            << std::setw(14) << (std::isfinite(p.slope) ? number(p.slope, 2) : "-") << "\n";
      section.table.push_back({name + " = " + p.value,
                               "R " + number(p.info.rate, 2) + " ± " + number(p.info.rate_se, 2) + ", D " +
                                   number(p.info.distortion, 2) + " ± " + number(p.info.distortion_se, 2) +
                                   ", I(x;z) " + number(p.info.mutual_information, 2) +
                                   (std::isfinite(p.slope) ? ", -dD/dR to next " + number(p.slope, 2) : "")});
    }
    plot.series.push_back(curve);
    const std::string svg = report::render_svg(plot);
    write_file_atomic(args->out + "/rate_distortion.svg", svg);
    section.svgs.push_back(svg);
    report::write_html_report(args->out + "/report.html", "elbo sweep " + args->key, {section});
    std::cout << "elbo sweep " << args->key << " (" << points.size() << " runs in " << args->out << ")\n"
              << table.str() << "  curve: " << args->out << "/rate_distortion.svg, report: " << args->out
              << "/report.html\n";
    return 0;
  };
}

}  // namespace elbo::cli
