#pragma once
// A run directory: config.toml, checkpoint.pt, metrics.jsonl, evaluation.json, pictures, report.html.
#include "elbo/core/config.h"
#include "elbo/core/image_shape.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"
#include "elbo/train/checkpoint.h"

#include <memory>
#include <string>

namespace elbo::diag {
struct RegressionPrediction;
}

namespace elbo::run {

inline std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.pt"; }

/// A trained run loaded back for evaluation or generation.
struct LoadedRun {
  std::string dir;
  Config config;
  train::CheckpointInfo info;
  std::shared_ptr<model::Model> model;

  // The settings commands ask of a run, read here so that no front end (CLI, Python) names a key.
  const std::string& family() const;       ///< model.type: "vae", "m2", "bnn", "crystal", ...
  const std::string& data_format() const;  ///< data.format: "idx", "csv", "fasta", "series", ...
  int64_t importance_samples() const;      ///< eval.k: the default K of an importance-weighted estimate
  int64_t weight_draws() const;            ///< eval.draws: the default weight draws of a Bayesian network
  uint64_t seed() const;                   ///< train.seed
};

/// Reads RUN/checkpoint.pt (its stored config rebuilds the model, in eval mode). Errors name the path.
LoadedRun load_run(const std::string& dir);

/// The training statistics the run's data were standardized with (data.standardize; the data are
/// read again), or an empty standardization (undefined tensors) when they were not.
data::Standardization training_standardization(const LoadedRun& run);

/// Creates the directory (and parents); a clear error if it cannot be written.
void ensure_writable_dir(const std::string& dir);

/// Writes examples [N, D] as a PNG grid (image data) or rows of CSV (anything else),
/// chosen by the file extension.
void write_examples(const std::string& path, const torch::Tensor& x, const ImageShape& image, int64_t columns);

/// Whether `s` ends in `tail` (an output file's type, e.g. ".png").
bool ends_with(const std::string& s, const std::string& tail);

/// Values in the data file's units (double): standardized columns mapped back (x * std + mean);
/// without a standardization, x as it is.
torch::Tensor original_units(const torch::Tensor& x, const data::Standardization& s);

/// A BNN's predictions of standardized targets in the data file's units: mean and quantiles mapped
/// back, sd times the scale, log densities minus sum log std (a density divides by the scale);
/// unchanged without a standardization.
void to_original_units(diag::RegressionPrediction& p, const data::Standardization& s);

}  // namespace elbo::run
