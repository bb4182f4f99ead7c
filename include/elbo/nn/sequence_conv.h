#pragma once
#include "elbo/nn/activation.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace elbo::nn {

/// Options of the 1-D convolutional encoder/decoder pair for sequences of `length` positions with
/// `symbols` one-hot channels each (DNA: 4): stride-2 convolutions of odd width `kernel` (each
/// halves the length, rounding up), mirrored by resize-convolutions: nearest-neighbour upsampling
/// to the encoder layer's exact length, then a stride-1 convolution (Odena, Dumoulin & Olah 2016;
/// LibTorch's CPU transposed 1-D convolution measured 20x slower than this pair). With 3 layers of width 9 a position of the last layer sees 57 bases;
/// the linear layer between code and convolutions sees the whole window.
struct SequenceConvOptions {
  SequenceConvOptions(int64_t length, int64_t symbols, int64_t features)
      : length_(length), symbols_(symbols), features_(features) {}
  TORCH_ARG(int64_t, length);
  /// Encoder: input channels per position; decoder: output channels per position.
  TORCH_ARG(int64_t, symbols);
  /// Encoder output / decoder input width.
  TORCH_ARG(int64_t, features);
  TORCH_ARG(std::vector<int64_t>, channels) = std::vector<int64_t>{64, 128};
  TORCH_ARG(int64_t, kernel) = 9;
  TORCH_ARG(Activation, activation) = Activation::relu;
  /// Decoder: multiplies the output layer's initial weights.
  TORCH_ARG(double, output_init_scale) = 1.0;
};

/// Sequences [..., S * L] (channel-major: S blocks of L positions, e.g. a one-hot code's channels,
/// or a signal and its mask) -> features [..., F]: convolutions along the sequence, then one linear layer.
class SequenceEncoderImpl : public torch::nn::Module {
 public:
  explicit SequenceEncoderImpl(const SequenceConvOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  SequenceConvOptions options_;
  std::vector<torch::nn::Conv1d> convs_;
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(SequenceEncoder);

/// Features [..., F] -> [..., L * S] (position-major: S values per position, as a categorical
/// likelihood reads its logits): one linear layer, then resize-convolutions along the sequence.
class SequenceDecoderImpl : public torch::nn::Module {
 public:
  explicit SequenceDecoderImpl(const SequenceConvOptions& options);
  torch::Tensor forward(const torch::Tensor& z);

 private:
  SequenceConvOptions options_;
  std::vector<int64_t> lengths_;  // after each encoder layer: lengths_[0] = L
  torch::nn::Linear stem_{nullptr};
  std::vector<torch::nn::Conv1d> convs_;
};
TORCH_MODULE(SequenceDecoder);

}  // namespace elbo::nn
