#include "elbo/report/image_grid.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

// The encoder is compiled into this file (internal linkage), so nothing links libstb.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace elbo::report {
namespace {

constexpr uint8_t kPaddingGrey = 128;

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

std::string encode_image_grid_png(const torch::Tensor& images, const ImageShape& shape,
                                  int64_t columns, int64_t padding) {
  constexpr const char* fn = "elbo::report::encode_image_grid_png";
  ELBO_CHECK(shape.is_image(), fn, ": image shape ", shape.str(), " has no pixels");
  ELBO_CHECK(shape.channels == 1 || shape.channels == 3, fn, ": need 1 or 3 channels (got ",
             shape.channels, ")");
  ELBO_CHECK(columns > 0, fn, ": columns must be positive (got ", columns, ")");
  ELBO_CHECK(padding >= 0, fn, ": padding must be non-negative (got ", padding, ")");
  ELBO_CHECK(images.defined(), fn, ": images tensor is undefined");
  ELBO_CHECK(images.is_floating_point(), fn, ": images must have a floating dtype (got ",
             images.scalar_type(), ")");
  const int64_t c = shape.channels, h = shape.height, w = shape.width;
  const bool flat = images.dim() == 2 && images.size(1) == shape.features();
  const bool nchw = images.dim() == 4 && images.size(1) == c && images.size(2) == h &&
                    images.size(3) == w;
  ELBO_CHECK(flat || nchw, fn, ": images of shape ", images.sizes(), " do not match image shape ",
             shape.str(), " (need [N, ", shape.features(), "] or [N, ", c, ", ", h, ", ", w, "])");
  const int64_t n = images.size(0);
  ELBO_CHECK(n > 0, fn, ": no images to tile");

  const int64_t cols = std::min(columns, n);
  const int64_t rows = (n + cols - 1) / cols;
  const int64_t grid_w = cols * (w + padding) + padding;
  const int64_t grid_h = rows * (h + padding) + padding;
  ELBO_CHECK(grid_w * c <= INT32_MAX && grid_h <= INT32_MAX && grid_w * grid_h * c <= INT32_MAX, fn,
             ": grid of ", grid_w, "x", grid_h, " pixels is too large for a PNG");

  const torch::Tensor bytes = torch::nan_to_num(images.detach().to(torch::kCPU, torch::kFloat), 0.0)
                                  .reshape({n, c, h, w})
                                  .clamp(0.0, 1.0)
                                  .mul(255.0)
                                  .round()
                                  .to(torch::kUInt8)
                                  .contiguous();
  const uint8_t* src = bytes.data_ptr<uint8_t>();

  std::vector<uint8_t> grid(static_cast<size_t>(grid_w * grid_h * c), kPaddingGrey);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = padding + (i / cols) * (h + padding);
    const int64_t left = padding + (i % cols) * (w + padding);
    for (int64_t ch = 0; ch < c; ++ch) {
      const uint8_t* plane = src + (i * c + ch) * h * w;
      for (int64_t y = 0; y < h; ++y) {
        uint8_t* out = grid.data() + ((top + y) * grid_w + left) * c + ch;
        for (int64_t x = 0; x < w; ++x) out[x * c] = plane[y * w + x];
      }
    }
  }

  std::string png;
  const int ok = stbi_write_png_to_func(append_bytes, &png, static_cast<int>(grid_w),
                                        static_cast<int>(grid_h), static_cast<int>(c), grid.data(),
                                        static_cast<int>(grid_w * c));
  if (!ok) throw std::runtime_error(std::string(fn) + ": PNG encoding failed");
  return png;
}

void write_image_grid(const std::string& path, const torch::Tensor& images, const ImageShape& shape,
                      int64_t columns, int64_t padding) {
  write_file_atomic(path, encode_image_grid_png(images, shape, columns, padding));
}

}  // namespace elbo::report
