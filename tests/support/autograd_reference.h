#pragma once
// The autograd path as the reference of a hand-written step (tests/train/fused_*_step_test.cpp).
#include <torch/nn/module.h>

#include <limits>
#include <vector>

namespace elbo::test {

/// max |a - b| / (|b| + 1e-3): the error of a step's values or gradients against the reference b.
inline double max_relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs() / (b.abs() + 1e-3)).max().item<double>();
}

/// The gradients of `loss` in `module`'s parameters (by backward from cleared gradients); each
/// .grad() is then filled with NaN, so a step under test must write every entry again.
inline std::vector<torch::Tensor> reference_gradients(torch::nn::Module& module, const torch::Tensor& loss) {
  for (auto& p : module.parameters()) p.mutable_grad() = torch::Tensor();
  loss.backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : module.parameters()) {
    grads.push_back(p.grad().clone());
    p.mutable_grad().fill_(std::numeric_limits<float>::quiet_NaN());
  }
  return grads;
}

}  // namespace elbo::test
