#pragma once
#include "elbo/core/image_shape.h"
#include "elbo/nn/activation.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace elbo::nn {

/// Options of the convolutional encoder/decoder pair for images of any
/// H x W x C: stride-2 4x4 convolutions (each halves H and W, rounding down),
/// mirrored by transposed convolutions whose output padding restores the
/// exact sizes.
struct ConvOptions {
  ConvOptions(ImageShape image, int64_t features) : image_(image), features_(features) {}
  TORCH_ARG(ImageShape, image);
  /// Encoder output / decoder input width.
  TORCH_ARG(int64_t, features);
  TORCH_ARG(std::vector<int64_t>, channels) = std::vector<int64_t>{32, 64};
  TORCH_ARG(Activation, activation) = Activation::relu;
  /// Decoder: output channels per image channel (likelihood parameters per pixel).
  TORCH_ARG(int64_t, params_per_pixel) = 1;
  /// Decoder: multiplies the output layer's initial weights.
  TORCH_ARG(double, output_init_scale) = 1.0;
};

/// Image [..., C*H*W] -> features [..., F]: convolutions, then one linear layer.
class ConvEncoderImpl : public torch::nn::Module {
 public:
  explicit ConvEncoderImpl(const ConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvOptions options_;
  std::vector<torch::nn::Conv2d> convs_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(ConvEncoder);

/// Features [..., F] -> per-pixel parameters [..., P*C*H*W] (parameter-major:
/// P blocks of C*H*W): one linear layer, then transposed convolutions.
class ConvDecoderImpl : public torch::nn::Module {
 public:
  explicit ConvDecoderImpl(const ConvOptions& options);
  torch::Tensor forward(const torch::Tensor& z);

 private:
  ConvOptions options_;
  std::vector<int64_t> heights_, widths_;  // spatial sizes after each encoder layer
  torch::nn::Linear stem_{nullptr};
  std::vector<torch::nn::ConvTranspose2d> deconvs_;
};
TORCH_MODULE(ConvDecoder);

}  // namespace elbo::nn
