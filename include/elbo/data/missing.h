#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"

#include <string>

namespace elbo::data {

/// Which entries of complete data to hide (data.missing*): the hidden entries get mask 0 and
/// Dataset::hidden 1, and their true values stay in x to score imputations against.
struct MissingOptions {
  /// none | mcar (each entry with probability rate) | block (a square of side `block` at a
  /// uniformly drawn place in each image) | bottom_half (rows H/2 .. H-1 of each image) |
  /// columns (the listed columns of a table, in every row)
  std::string pattern = "none";
  double rate = 0.2;        ///< mcar: probability in [0, 1) that an entry is hidden
  int64_t block = 14;       ///< block: side of the square, 1 .. min(H, W)
  std::string columns;      ///< columns: comma-separated CSV header names or 1-based feature indices
  double rows = 1.0;        ///< fraction in (0, 1] of the examples the pattern applies to (each drawn independently)
  uint64_t seed = 1;        ///< the masks' seed (independent of train.seed)

  /// The data.missing* keys of a run config.
  static MissingOptions from_config(const Config& config);
};

/// Hides entries of `data` as `options` say (on top of entries already missing), drawing with
/// mix_seed(options.seed, data, split): each split gets its own masks. Throws
/// std::invalid_argument naming the data.missing* key for a rate outside [0, 1), a row fraction outside
/// (0, 1], a block larger
/// than the images, an image pattern on a table, a column that does not exist, or columns that
/// hide every entry.
Dataset hide_entries(Dataset data, const MissingOptions& options, uint64_t split);

/// Removes the rows whose every entry is missing (they carry nothing for the likelihood) and
/// counts them in rows_dropped. Data without a mask are returned as they are.
Dataset drop_empty_rows(Dataset data);

}  // namespace elbo::data
