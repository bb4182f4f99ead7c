#pragma once
#include "elbo/data/dataset.h"

#include <string>
#include <optional>
#include <vector>

namespace elbo::data {

/// How to read a numeric CSV table.
struct CsvOptions {
  char delimiter = ',';
  /// Lines skipped before anything else (e.g. 1 for scikit-learn's CSVs whose
  /// first line is "n_samples,n_features,class names...").
  int64_t skip_rows = 0;
  /// "auto" (a first row with a non-numeric, non-missing cell is a header), "yes", "no".
  std::string header = "auto";
  /// Column holding an integer label (negative counts from the end: -1 = last);
  /// it is removed from the features. Unset = no label column.
  std::optional<int64_t> label_column;
  /// Cells that mean "missing" (besides the empty cell): they become masked entries.
  std::vector<std::string> missing = {"NA", "N/A", "NaN", "nan", "?"};
};

/// Reads a numeric table: every row must have the same number of cells; every
/// cell must parse as a finite number or be missing. Errors name the file,
/// line and column. Missing cells get x = 0 and mask = 0; mask is left
/// undefined when nothing is missing. Cells are trimmed of blanks and may be
/// double-quoted ("" escapes a quote); blank lines and \r\n endings are accepted.
Dataset read_csv(const std::string& path, const CsvOptions& options = {});

/// The 0-based columns of `table` that `spec` names, in order: comma-separated header names,
/// 1-based indices or ranges "a-b" of indices; errors name `key` (the config key that gave spec).
std::vector<int64_t> column_indices(const Dataset& table, const std::string& spec, const std::string& key);

}  // namespace elbo::data
