#pragma once
#include "elbo/core/image_shape.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

/// One kind of measurement of the rows of a multimodal data set (`[[data.modalities]]`): the
/// columns [begin, begin + width) of the data set's x, with its own likelihood. A row lacks the
/// modality where every one of its columns is masked.
struct Modality {
  std::string name;
  int64_t begin = 0;                  ///< first column in x
  int64_t width = 0;                  ///< columns (a categorical modality: one per position)
  std::string likelihood = "gaussian";
  int64_t categories = 0;             ///< classes of a categorical modality
  ImageShape image{1, 0, 0};          ///< set when its columns are an image
  bool standardize = false;           ///< columns standardized with training statistics
  bool binarize = false;              ///< values in [0, 1] drawn once as Bernoulli
  std::vector<int64_t> hidden;        ///< its encoder expert's hidden widths (empty = model.hidden)
  std::vector<std::string> feature_names;  ///< CSV header cells, or empty

  int64_t end() const { return begin + width; }
};

/// Rows where modality m has an observed entry, bool [N] (all rows where mask is undefined).
torch::Tensor present(const torch::Tensor& mask, const Modality& m, int64_t rows);

/// The index of the modality called `name`; otherwise std::invalid_argument naming `what`
/// (e.g. "--from") and the modalities there are.
size_t find_modality(const std::vector<Modality>& modalities, const std::string& name, const std::string& what);

/// Comma-separated names (e.g. "left,right") as modality indices (find_modality each; no repeats).
std::vector<size_t> find_modalities(const std::vector<Modality>& modalities, const std::string& names,
                                    const std::string& what);

}  // namespace elbo::data
