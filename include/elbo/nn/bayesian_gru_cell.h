#pragma once
#include "elbo/nn/bayesian_linear.h"

#include <torch/nn/module.h>

#include <vector>

namespace elbo::nn {

/// A GRU cell with a mean-field Gaussian posterior over its weights (Fortunato, Blundell &
/// Vinyals 2017, "Bayesian Recurrent Neural Networks"): the weights are drawn once per
/// sequence and batch, so every step of a sequence sees the same network. PyTorch's gate
/// order and equations: r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
/// n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
class BayesianGruCellImpl : public torch::nn::Module {
 public:
  BayesianGruCellImpl(int64_t input, int64_t hidden, const BayesianLayerOptions& options);

  /// One draw of every weight per particle.
  struct Draw {
    BayesianLinearImpl::Draw input, hidden;  ///< [K, 3H, in], [K, 3H, H] and their biases [K, 3H]
  };
  /// With `cost`, the draws' log q and log p are added to it.
  Draw sample(int64_t particles, WeightCost* cost = nullptr) const;
  /// The posterior means (K = 1).
  Draw mean() const;

  /// One step: x [K, B, in], h [K, B, H] -> h' [K, B, H] (K = 1 weights broadcast).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& h, const Draw& w) const;

  std::vector<GaussianWeights> weights() const;
  int64_t hidden_size() const { return hidden_size_; }

 private:
  int64_t hidden_size_;
  BayesianLinear input_{nullptr}, hidden_{nullptr};  // W_i [3H, in], W_h [3H, H]
};
TORCH_MODULE(BayesianGruCell);

}  // namespace elbo::nn
