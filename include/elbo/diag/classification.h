#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <string>

namespace elbo::diag {

/// How well a model's classifier q(y | x) (Model::classify) predicts the labels of a data set.
struct Classification {
  int64_t examples = 0;
  double error = 0;          ///< fraction of examples whose most probable class is not the label
  double error_se = 0;       ///< binomial standard error sqrt(e (1 - e) / n)
  double log_likelihood = 0; ///< mean log q(y_n | x_n)
  double ece = 0;            ///< expected calibration error, 15 equal-width confidence bins (expected_calibration_error)
  torch::Tensor confusion;   ///< [C, C] int64: row = true class, column = predicted class
};

/// log q(y | x) of every example of `data`, `batch_size` at a time: [N, C] float64 on the CPU.
torch::Tensor class_log_probabilities(model::Model& model, const data::Dataset& data, int64_t batch_size = 1000);

/// Expected calibration error (Guo et al. 2017): examples binned by their top probability into
/// `bins` equal-width bins; sum over bins of (bin size / N) |accuracy - mean confidence|.
double expected_calibration_error(const torch::Tensor& probabilities, const torch::Tensor& labels, int64_t bins = 15);

/// Classifies every example of `data` (which needs labels; their mask is ignored: held-out
/// labels are all scored), `batch_size` at a time.
Classification evaluate_classifier(model::Model& model, const data::Dataset& data, int64_t batch_size = 1000);

/// {"examples": .., "error": .., "error_se": .., "log_likelihood": .., "ece": .., "confusion": [[..], ..]}
Json to_json(const Classification& c);

}  // namespace elbo::diag
