#pragma once
#include "elbo/core/image_shape.h"
#include "elbo/data/modality.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

struct Dataset;

/// What a field of a batch is for.
enum class Role {
  input,      ///< what the model explains (and its encoder reads): "x"
  target,     ///< a float quantity predicted from the input (regression): "target"
  label,      ///< a class the model infers or is told, possibly for some rows only: "y" with "y_mask"
  condition,  ///< a class the model is always given (conditional VAE): "y"
};

/// "input", "target", "label" or "condition".
const char* to_string(Role role);

/// One named field of a batch: its dtype, the shape of one example and its role.
struct Field {
  std::string name;
  torch::Dtype dtype = torch::kFloat32;
  std::vector<int64_t> event_shape;  ///< one example's shape ([] for a scalar per example)
  Role role = Role::input;
  bool masked = false;   ///< entries may be missing (a mask of the same shape; labels: one per row)
  bool lengths = false;  ///< sequences of varying length (an int64 length per row)
  int64_t classes = 0;   ///< label / condition fields: the classes 0 .. classes-1
};

/// The fields of the batches a data set gives, from which models are built.
struct Schema {
  std::vector<Field> fields;
  ImageShape image;       ///< set when "x" is an image
  int64_t examples = 0;   ///< training examples N (a global site's KL is shared out over them)
  std::vector<Modality> modalities;  ///< multimodal data: the modalities' columns of "x"

  /// The field called `name`, or nullptr.
  const Field* find(const std::string& name) const;
  /// Elements per example of the input field "x" (0 without one).
  int64_t features() const;
  /// Classes of the label field "y" (0 without one).
  int64_t classes() const;
  /// Elements per example of the "target" field (0 without one).
  int64_t targets() const;

  /// The schema of a data set: "x" (input, masked when it has a mask), "y" (a label, masked when
  /// it has a label mask; `classes` = the largest label + 1 unless given), "target" (float).
  static Schema of(const Dataset& data, int64_t classes = 0);
  /// A schema with only the input "x" of `features` elements (and an image shape).
  static Schema of_features(int64_t features, const ImageShape& image = {});
};

}  // namespace elbo::data
