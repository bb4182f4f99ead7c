#pragma once
// A sweep over one config key: one run per value and the rate-distortion curve they trace
// (Alemi et al. 2018, "Fixing a Broken ELBO").
#include "elbo/core/config.h"
#include "elbo/core/json_fwd.h"
#include "elbo/diag/information.h"

#include <string>
#include <vector>

namespace elbo::run {

/// One run of a sweep: its value of the key, its directory, its rate and distortion.
struct SweepPoint {
  std::string value, dir;
  diag::Information info;
  double slope = 0;  ///< -dD/dR towards the next point by rate (NaN for the last): the beta that reaches it
};

struct Sweep {
  std::string key;
  std::vector<SweepPoint> points;  ///< by increasing rate
  std::string table;               ///< for the terminal
  int status = 0;                  ///< 130 when a run was interrupted by a signal (the sweep stops there)
};

/// Trains one run per value of `key` into OUT/NAME=VALUE (NAME the key's last part): a finished run
/// with the same config is reused, an interrupted one resumed. Rate R = E KL(q(z|x) || p(z)) and
/// distortion D = -E log p(x|z) of each on its first `n` test examples (-1: eval.n; 0: all) give
/// the rate-distortion curve; writes OUT/sweep.json, OUT/rate_distortion.svg and OUT/report.html.
/// SIGINT/SIGTERM checkpoint the run in training and stop the sweep (status 130; run it again to resume).
Sweep sweep(const Config& base, const std::string& key, const std::vector<std::string>& values, const std::string& out,
            int64_t n = -1);

/// {"key": .., "points": [{"value", "run", "information", "slope"}, ...]}
Json to_json(const Sweep& sweep);

}  // namespace elbo::run
