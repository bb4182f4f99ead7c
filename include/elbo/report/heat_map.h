#pragma once
#include <torch/types.h>

namespace elbo::report {

/// Values [R, C] as an RGB image [3, R * cell, C * cell] in [0, 1] for write_image_grid: a
/// diverging map from blue (-limit and below) through white (0) to red (+limit and above);
/// limit <= 0 takes the largest |value|. NaN shows black.
torch::Tensor diverging_heat_map(const torch::Tensor& values, double limit = 0, int64_t cell = 4);

}  // namespace elbo::report
