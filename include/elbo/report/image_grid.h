#pragma once
#include "elbo/core/image_shape.h"

#include <torch/types.h>

#include <string>

namespace elbo::report {

/// Tiles N images into one PNG. `images` is [N, D] with D = shape.features()
/// (channel-major) or [N, C, H, W], any floating dtype and device; values are
/// clamped to [0, 1] (NaN shows black) and scaled to 0..255. 1 channel gives a
/// grey PNG, 3 an RGB one. min(columns, N) tiles per row, `padding` pixels of
/// grey (128) between and around tiles: the image is
/// cols*(W+padding)+padding wide and rows*(H+padding)+padding high.
/// The file is written atomically (temporary file + rename); errors name the path.
void write_image_grid(const std::string& path, const torch::Tensor& images, const ImageShape& shape,
                      int64_t columns, int64_t padding = 2);

/// The same grid as PNG bytes in memory (for embedding in HTML).
std::string encode_image_grid_png(const torch::Tensor& images, const ImageShape& shape,
                                  int64_t columns, int64_t padding = 2);

}  // namespace elbo::report
