#pragma once
#include "elbo/core/image_shape.h"
#include "elbo/nn/activation.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

namespace elbo::nn {

/// Boundary of the convolutions: zeros (the image ends at its edges) or circular (the image is a torus, e.g. a
/// field on a periodic lattice; the networks are then translation-equivariant under shifts by multiples of
/// their total stride 2^layers, which needs H and W divisible by it).
enum class Padding { zeros, circular };
/// "zeros" | "circular"; anything else throws naming the choices.
Padding parse_padding(const std::string& name);

/// Transposed convolution on the torus: x [N, Cin, H, W], weight [Cin, Cout, k, k] (a ConvTranspose2d's),
/// bias [Cout] or undefined -> [N, Cout, s H, s W],
///   y[o, j] = bias[o] + sum_{c, i, u : s i + u - p = j (mod s H)} weight[c, o, u] x[c, i]   (per axis),
/// the ConvTranspose2d(stride s, padding p) sum with output indices wrapped instead of cut. Computed as a
/// transposed convolution without padding (s (H - 1) + k outputs per axis) whose outputs are folded onto the
/// s H sites of the circle, index m landing on (m - p) mod s H: no convolution work beyond the unpadded one.
torch::Tensor circular_conv_transpose2d(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias, int64_t stride, int64_t padding);

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
  /// Circular: Conv2d's circular padding mode in the encoder, circular_conv_transpose2d in the decoder.
  TORCH_ARG(Padding, padding) = Padding::zeros;
};

/// Image [..., C*H*W] -> features [..., F]: convolutions, then one linear layer.
class ConvEncoderImpl : public torch::nn::Module {
 public:
  explicit ConvEncoderImpl(const ConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  /// The convolutions alone: images [N, C, H, W] -> activated feature maps [N, C_last, H / 2^n, W / 2^n].
  torch::Tensor feature_maps(const torch::Tensor& images);

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
  /// The transposed convolutions alone: maps [N, C_last, H / 2^n, W / 2^n] -> [N, P*C, H, W].
  torch::Tensor upsample(const torch::Tensor& maps);

 private:
  ConvOptions options_;
  std::vector<int64_t> heights_, widths_;  // spatial sizes after each encoder layer
  torch::nn::Linear stem_{nullptr};
  /// The layers' parameters (weight [Cin, Cout, 4, 4], bias); upsample() applies them with nn::conv_transpose2d
  /// at the sizes in heights_ / widths_, not through their own forward.
  std::vector<torch::nn::ConvTranspose2d> deconvs_;
};
TORCH_MODULE(ConvDecoder);

}  // namespace elbo::nn
