#pragma once
#include <cstdint>
#include <string>

namespace elbo {

/// Shape of one image example stored flat as channels*height*width features
/// (channel-major, like LibTorch's NCHW). A zero height means "not an image".
struct ImageShape {
  int64_t channels = 1;
  int64_t height = 0;
  int64_t width = 0;

  bool is_image() const { return height > 0 && width > 0; }
  int64_t features() const { return channels * height * width; }
  std::string str() const {
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
};

}  // namespace elbo
