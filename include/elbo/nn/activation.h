#pragma once
#include <torch/types.h>

#include <string>

namespace elbo::nn {

/// Hidden-layer nonlinearity.
enum class Activation { relu, elu, tanh, softplus, leaky_relu };

/// Parses "relu" | "elu" | "tanh" | "softplus" | "leaky_relu".
Activation parse_activation(const std::string& name);

/// Applies the activation elementwise.
torch::Tensor activate(const torch::Tensor& x, Activation activation);

}  // namespace elbo::nn
