#include "elbo/report/image_grid.h"

#include "elbo/core/atomic_file.h"
#include "report/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

namespace elbo::report {
namespace {

using testing::expect_throw_containing;

struct Decoded {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  int at(int y, int x, int c = 0) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

Decoded decode(const std::string& png) {
  Decoded d;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()),
                                              static_cast<int>(png.size()), &d.width, &d.height, &d.channels, 0);
  if (!data) throw std::runtime_error(std::string("stb_image: ") + stbi_failure_reason());
  d.pixels.assign(data, data + static_cast<size_t>(d.width) * d.height * d.channels);
  stbi_image_free(data);
  return d;
}

TEST(ImageGrid, GreyTilesAndPaddingDecodeExactly) {
  const int64_t n = 5, h = 2, w = 3, pad = 1, cols = 3;
  // Pixel (i, y, x) holds (i*h*w + y*w + x) / 29: all distinct, none a rounding tie.
  const torch::Tensor images = torch::arange(n * h * w, torch::kFloat).div(29.0).reshape({n, h * w});
  const Decoded d = decode(encode_image_grid_png(images, ImageShape{1, h, w}, cols, pad));
  ASSERT_EQ(d.channels, 1);
  ASSERT_EQ(d.width, cols * (w + pad) + pad);
  ASSERT_EQ(d.height, 2 * (h + pad) + pad);

  EXPECT_EQ(d.at(0, 0), 128);
  EXPECT_EQ(d.at(1, 1), 0);       // image 0, pixel (0, 0)
  EXPECT_EQ(d.at(1, 5), 53);      // image 1, pixel (0, 0): 6/29*255 = 52.76
  EXPECT_EQ(d.at(5, 7), 255);     // image 4, pixel (1, 2): 29/29
  EXPECT_EQ(d.at(4, 9), 128);     // empty sixth slot
  for (int y = 0; y < d.height; ++y) {
    for (int x = 0; x < d.width; ++x) {
      const int64_t ty = y % (h + pad), tx = x % (w + pad);
      const int64_t i = (y / (h + pad)) * cols + x / (w + pad);
      int expected = 128;
      if (ty >= pad && tx >= pad && i < n)
        expected = static_cast<int>(std::lround((i * h * w + (ty - pad) * w + (tx - pad)) / 29.0 * 255.0));
      EXPECT_EQ(d.at(y, x), expected) << "at (" << y << ", " << x << ")";
    }
  }
}

TEST(ImageGrid, RgbIsInterleavedInChannelOrder) {
  torch::Tensor images = torch::zeros({2, 3, 1, 2});
  auto a = images.accessor<float, 4>();
  a[0][0][0][0] = 1;  // red
  a[0][1][0][1] = 1;  // green
  a[1][2][0][0] = 1;  // blue
  for (int c = 0; c < 3; ++c) a[1][c][0][1] = 0.2f;
  const ImageShape shape{3, 1, 2};
  const std::string png = encode_image_grid_png(images, shape, 2, 0);
  const Decoded d = decode(png);
  ASSERT_EQ(d.channels, 3);
  ASSERT_EQ(d.width, 4);
  ASSERT_EQ(d.height, 1);
  const int expected[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {51, 51, 51}};
  for (int x = 0; x < 4; ++x)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(d.at(0, x, c), expected[x][c]) << "pixel " << x << " channel " << c;
  EXPECT_EQ(encode_image_grid_png(images.reshape({2, 6}), shape, 2, 0), png);
}

TEST(ImageGrid, RgbPaddingIsGreyInEveryChannel) {
  const Decoded d = decode(encode_image_grid_png(torch::ones({1, 3 * 2 * 2}), ImageShape{3, 2, 2}, 4, 3));
  ASSERT_EQ(d.width, 2 + 2 * 3);  // one column: min(columns, N)
  ASSERT_EQ(d.height, 2 + 2 * 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(d.at(0, 0, c), 128);
    EXPECT_EQ(d.at(3, 3, c), 255);
    EXPECT_EQ(d.at(7, 7, c), 128);
  }
}

TEST(ImageGrid, ValuesAreClampedAndNanIsBlack) {
  const torch::Tensor images = torch::tensor({-0.5f, 1.5f, NAN, INFINITY, -INFINITY}).reshape({1, 5});
  const Decoded d = decode(encode_image_grid_png(images, ImageShape{1, 1, 5}, 1, 0));
  const int expected[5] = {0, 255, 0, 255, 0};
  for (int x = 0; x < 5; ++x) EXPECT_EQ(d.at(0, x), expected[x]) << "pixel " << x;
}

TEST(ImageGrid, AnyFloatingDtypeGivesTheSameBytes) {
  // Multiples of 1/16 are exact in half precision; none of these is a rounding tie.
  const torch::Tensor images = torch::tensor({0.0, 1.0, 3.0, 5.0, 10.0, 15.0}).div(16).reshape({2, 3});
  const ImageShape shape{1, 1, 3};
  const std::string reference = encode_image_grid_png(images.to(torch::kFloat), shape, 2);
  EXPECT_EQ(encode_image_grid_png(images.to(torch::kDouble), shape, 2), reference);
  EXPECT_EQ(encode_image_grid_png(images.to(torch::kHalf), shape, 2), reference);
  EXPECT_EQ(encode_image_grid_png(images.to(torch::kFloat).requires_grad_(), shape, 2), reference);
  EXPECT_EQ(encode_image_grid_png(images.to(torch::kFloat).t().contiguous().t(), shape, 2), reference);
}

TEST(ImageGrid, RejectsBadInputNamingTheShapes) {
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({4, 10}), ImageShape{1, 28, 28}, 8); },
      {"encode_image_grid_png", "[4, 10]", "28x28x1", "784"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({2, 1, 28, 27}), ImageShape{1, 28, 28}, 8); },
      {"[2, 1, 28, 27]", "28x28x1"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({2, 8}), ImageShape{2, 2, 2}, 8); }, {"1 or 3 channels", "2"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({2, 4}, torch::kLong), ImageShape{1, 2, 2}, 8); },
      {"floating dtype", "Long"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({2, 4}), ImageShape{1, 2, 2}, 0); }, {"columns", "0"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({2, 4}), ImageShape{1, 2, 2}, 2, -1); }, {"padding", "-1"});
  expect_throw_containing<std::invalid_argument>(
      [] { encode_image_grid_png(torch::zeros({0, 4}), ImageShape{1, 2, 2}, 2); }, {"no images"});
}

TEST(ImageGrid, WritesAtomicallyAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const std::string path = dir.file("grid.png");
  const torch::Tensor images = torch::rand({6, 16});
  const ImageShape shape{1, 4, 4};
  write_file_atomic(path, "old content");
  write_image_grid(path, images, shape, 3);
  EXPECT_EQ(read_file(path), encode_image_grid_png(images, shape, 3));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"grid.png"});
}

TEST(ImageGrid, UnwritableDirectoryNamesThePath) {
  const std::string path = "/nonexistent-elbo-report-dir/sub/grid.png";
  expect_throw_containing<std::runtime_error>(
      [&] { write_image_grid(path, torch::rand({2, 4}), ImageShape{1, 2, 2}, 2); }, {path});
}

}  // namespace
}  // namespace elbo::report
