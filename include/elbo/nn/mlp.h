#pragma once
#include "elbo/nn/activation.h"

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace elbo::nn {

/// Options of a multilayer perceptron, e.g. MlpOptions(784, 40).hidden({400}).
struct MlpOptions {
  MlpOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(std::vector<int64_t>, hidden) = {};
  TORCH_ARG(Activation, activation) = Activation::relu;
  /// Multiplies the output layer's initial weights (small = "small decoder init").
  TORCH_ARG(double, output_init_scale) = 1.0;
};

/// Linear layers with activations between them (none after the last):
/// [..., in] -> [..., out].
class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const MlpOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  /// The network after its first layer, from that layer's output before the activation [..., width]
  /// (a caller that forms the first product itself, e.g. by parts of its input).
  torch::Tensor forward_after_first(const torch::Tensor& first);

  const MlpOptions& options() const { return options_; }
  const std::vector<torch::nn::Linear>& layers() const { return layers_; }

 private:
  MlpOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

}  // namespace elbo::nn
