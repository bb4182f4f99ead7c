#include "elbo/nn/activation.h"

#include "elbo/core/check.h"

namespace elbo::nn {

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "elu") return Activation::elu;
  if (name == "tanh") return Activation::tanh;
  if (name == "softplus") return Activation::softplus;
  if (name == "leaky_relu") return Activation::leaky_relu;
  ELBO_CHECK(false, "activation '", name, "' is not one of: relu, elu, tanh, softplus, leaky_relu");
  return Activation::relu;
}

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::relu: return torch::relu(x);
    case Activation::elu: return torch::elu(x);
    case Activation::tanh: return torch::tanh(x);
    case Activation::softplus: return torch::softplus(x);
    case Activation::leaky_relu: return torch::leaky_relu(x, 0.01);
  }
  return x;
}

}  // namespace elbo::nn
