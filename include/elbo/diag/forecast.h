#pragma once
#include "elbo/core/json_fwd.h"
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace elbo::diag {

/// The continuous ranked probability score of samples x [S, H] against the truth y [H], per
/// step: E|X - y| - E|X - X'| / 2 (Gneiting & Raftery 2007, eq. 20), with E|X - X'| from the
/// sorted samples as (2 / S^2) sum_i (2 i - S - 1) x_(i). Lower is better; for a point
/// forecast it is the absolute error.
torch::Tensor crps(const torch::Tensor& samples, const torch::Tensor& truth);

/// How well sample paths [S, H] of one series forecast the held-out truth [H'] (H' <= H steps).
struct ForecastScores {
  int64_t steps = 0;      ///< held-out steps scored
  double coverage50 = 0;  ///< fraction inside the 25-75% band of the paths
  double coverage90 = 0;  ///< inside the 5-95% band
  double crps = 0;        ///< mean over the steps
  double mae = 0;         ///< of the median path
  /// The width of the 90% band at horizons 1, 13, 52, 260 (those <= H).
  std::vector<std::pair<int64_t, double>> width90;
  torch::Tensor quantiles;  ///< [5, H] float64: the paths' 5, 25, 50, 75 and 95% quantiles per step
};
ForecastScores score_forecast(const torch::Tensor& paths, const torch::Tensor& truth);

/// {"steps": .., "coverage50": .., "coverage90": .., "crps": .., "mae": .., "width90": {"1": .., ..}}
Json to_json(const ForecastScores& s);

}  // namespace elbo::diag
