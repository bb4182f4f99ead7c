#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/bnn.h"

#include <string>

namespace elbo::diag {

/// The quantile levels predictions report: 5, 25, 50, 75 and 95%.
inline const std::vector<double>& quantile_levels() {
  static const std::vector<double> levels{0.05, 0.25, 0.5, 0.75, 0.95};
  return levels;
}

/// A Bayesian regression network's predictive distribution per example and target: the
/// mixture over S weight draws p(t | x) = (1/S) sum_s p(t | f_{w_s}(x)).
struct RegressionPrediction {
  torch::Tensor mean;         ///< [N, T] float64
  torch::Tensor sd;           ///< [N, T] sqrt(mean_s f_s^2 - mean^2 + Var noise) (inf for Student-t with nu <= 2)
  /// [5, N, T] at quantile_levels(): Gaussian noise by bisection on the mixture's CDF; Student-t
  /// noise from 64 noise draws per weight draw.
  torch::Tensor quantiles;
  torch::Tensor log_density;  ///< [N] log p(t_n | x_n) summed over targets (undefined without targets)
};
RegressionPrediction predict_regression(model::BnnImpl& model, const data::Dataset& data, int64_t draws,
                                        int64_t batch_size = 1000);

/// Quantiles [L, ...] of the equal-weight Gaussian mixtures with means [S, ...] and scales
/// broadcastable to them, at `levels` (bisection to 1e-10 of the spread).
torch::Tensor mixture_quantiles(const torch::Tensor& means, const torch::Tensor& scales, const std::vector<double>& levels);

/// Scores of a predictive distribution against the true targets [N, T].
struct RegressionScores {
  int64_t examples = 0;
  double rmse = 0;        ///< of the predictive mean, over all targets
  double nll = 0;         ///< -mean_n log p(t_n | x_n), nats per example
  double coverage50 = 0;  ///< fraction of targets inside the 25-75% interval
  double coverage90 = 0;  ///< inside the 5-95% interval
};
RegressionScores score_regression(const RegressionPrediction& p, const torch::Tensor& targets);

/// {"examples": .., "rmse": .., "nll": .., "coverage50": .., "coverage90": ..}
Json to_json(const RegressionScores& s);

}  // namespace elbo::diag
