#pragma once
#include "elbo/core/image_shape.h"
#include "elbo/core/worker_threads.h"
#include "elbo/data/modality.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

/// One batch of examples as the models see it: the named fields of a data Schema
/// (schema.h); a field the data set lacks is undefined.
struct Batch {
  torch::Tensor x;       ///< "x" [B, D] float32 features (images flattened channel-major)
  torch::Tensor mask;    ///< [B, D] 1 = observed, 0 = missing; undefined = all observed
  torch::Tensor y;       ///< "y" [B] int64 labels (a label or a condition), or undefined
  torch::Tensor y_mask;  ///< [B] 1 = the label is known, 0 = unlabelled; undefined = all known
  torch::Tensor target;  ///< "target" [B, T] float regression targets, or undefined
  int64_t size() const { return x.defined() ? x.size(0) : target.defined() ? target.size(0) : 0; }
};

/// How pixel intensities in [0, 1] are turned into binary data.
enum class Binarization {
  none,     ///< keep grey levels in [0, 1]
  fixed,    ///< "static": one Bernoulli draw per pixel, made once with a seed
  dynamic,  ///< a fresh Bernoulli draw every time a batch is taken
};

/// Parses "none" | "static" | "dynamic" (throws std::invalid_argument otherwise).
Binarization parse_binarization(const std::string& name);

/// An in-memory data set: one contiguous tensor, batches gathered by index.
struct Dataset {
  /// [N, D] floating-point features, or uint8 8-bit intensities k standing for k / 255
  /// (images: 4x smaller; batch() and slice() give them as float32).
  torch::Tensor x;
  torch::Tensor mask;  ///< [N, D] float32 or undefined (all observed)
  torch::Tensor y;     ///< [N] int64 or undefined
  torch::Tensor y_mask;  ///< [N] float32 1 = label known, 0 = unlabelled; undefined = all known (or no labels)
  torch::Tensor target;  ///< [N, T] float regression targets, or undefined
  /// [N, D] float32 1 = hidden by data.missing (missing.h): mask is 0 there, x keeps the true value
  /// for scoring imputations, and batch() / slice() give the models 0 in its place; undefined = none.
  torch::Tensor hidden;
  std::vector<std::string> feature_names;  ///< CSV header cells (label column excluded), or empty
  std::vector<Modality> modalities;  ///< multimodal data (multimodal.h): each modality's columns of x; else empty
  int64_t rows_dropped = 0;  ///< rows removed because every entry was missing (drop_empty_rows)
  ImageShape image;    ///< set when examples are images
  std::string name;    ///< where it came from (file name), for messages and reports
  /// Sequence data (fasta.h): x = k stands for alphabet[k] ("ACGT"), masked where ambiguous; "" otherwise.
  std::string alphabet;
  bool dynamic_binarize = false;  ///< draw Bernoulli(x) in every batch()
  /// Known generative factors (synthetic data, e.g. dsprites): [N, F] int64 with
  /// factors[:, k] in [0, factor_sizes[k]); undefined when the data have none.
  torch::Tensor factors;
  std::vector<std::string> factor_names;  ///< one per column of `factors`
  std::vector<int64_t> factor_sizes;      ///< values each factor takes

  int64_t size() const { return x.defined() ? x.size(0) : 0; }
  int64_t features() const { return x.defined() ? x.size(1) : 0; }

  /// The examples at `index` (int64 [B]); applies dynamic binarization using
  /// the global generator (seeded by the trainer per step). `threads` share the
  /// gathering of 8-bit rows; leave it null while BLAS threads may be busy or
  /// spinning on the other cores (they would compete: measured 2x slower).
  Batch batch(const torch::Tensor& index, WorkerThreads* threads = nullptr) const;
  /// A hint: starts loading the 8-bit CPU rows order[begin, end) that a later batch() will
  /// gather, so that their memory latency overlaps other work (no effect on other data).
  void prefetch(const torch::Tensor& order, int64_t begin, int64_t end) const;
  /// Examples [begin, end) without binarization noise beyond what is stored.
  Batch slice(int64_t begin, int64_t end) const;
  /// A new data set holding the examples at `index`.
  Dataset subset(const torch::Tensor& index) const;
};

/// Scales raw 8-bit intensities to [0, 1] (x / 255).
torch::Tensor scale_pixels(const torch::Tensor& raw);

/// The features a stored `Dataset::x` stands for: uint8 scaled by scale_pixels
/// (float32), floating-point data as they are.
torch::Tensor float_features(const torch::Tensor& x);

/// Static binarization: Bernoulli(x) drawn once from a generator seeded with `seed`
/// (uint8 data stay uint8: 0 or 255).
Dataset binarize_static(const Dataset& data, uint64_t seed);

/// Standardizes each column to zero mean and unit variance using observed
/// entries only (constant columns are centred only). Returns mean and std.
struct Standardization {
  torch::Tensor mean;
  torch::Tensor std;
};
Standardization standardize(Dataset& data);
/// Applies a standardization computed on another split.
void apply_standardization(Dataset& data, const Standardization& s);

/// Splits off `validation` examples drawn uniformly without replacement (seeded), moved
/// to the end by the last steps of a Fisher-Yates shuffle. Both
/// parts are views of one permuted copy; a data set passed by std::move whose
/// tensors nothing else shares is permuted in place (no second copy of the data).
struct TrainValidation {
  Dataset train;
  Dataset validation;
};
TrainValidation split_validation(Dataset data, int64_t validation, uint64_t seed);

}  // namespace elbo::data
