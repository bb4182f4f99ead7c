#pragma once
#include "elbo/nn/gaussian_weights.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace elbo {
class Config;
}

namespace elbo::nn {

/// How a Bayesian layer turns q(w) into outputs during a forward pass.
enum class WeightSampling {
  /// The local reparameterization trick (Kingma, Salimans & Welling 2015): the pre-activations
  /// b = x W^T + c are Gaussian given x, N(x m_W^T + m_c, x^2 (s_W^2)^T + s_c^2), and are drawn
  /// directly, independently per example: the same expected loss as drawing W, a lower
  /// gradient variance, and no weight-sized noise.
  local,
  /// One draw of the weights per particle, shared by the batch (Blundell et al. 2015).
  weights,
};

/// Settings shared by the Bayesian layers.
struct BayesianLayerOptions {
  WeightPrior prior;
  WeightSampling sampling = WeightSampling::local;
  double initial_scale = 0.01;  ///< softplus(rho) at initialization
  /// Means start uniform in [-b, b] with biases 0; 0 = torch::nn::Linear's initialization (b = 1 / sqrt(in), biases too).
  double initial_mean_bound = 0;

  /// model.weights.* (prior, sigma, pi, sigma1, sigma2, sampling = "local" | "weights", initial_scale,
  /// initial_mean_bound).
  static BayesianLayerOptions from_config(const Config& config);
};

/// A linear layer with a mean-field Gaussian posterior over its weights W [out, in] and bias
/// c [out]: q = N(m, softplus(rho)^2) elementwise.
class BayesianLinearImpl : public torch::nn::Module {
 public:
  BayesianLinearImpl(int64_t in, int64_t out, const BayesianLayerOptions& options);

  /// One draw of the weights per particle: W [K, out, in], c [K, out].
  struct Draw {
    torch::Tensor weight, bias;
  };
  /// With `cost`, the draws' log q and log p are added to it (draw_weights).
  Draw sample(int64_t particles, WeightCost* cost = nullptr) const;
  /// The posterior means as a single "draw" (K = 1).
  Draw mean() const;
  /// x [K, B, in] through the particles' weights: [K, B, out] (K = 1 broadcasts over x's K).
  static torch::Tensor apply(const torch::Tensor& x, const Draw& w);

  /// x [K, B, in] -> [K, B, out] with the layer's WeightSampling; out of training mode (predictions)
  /// always one draw of the weights per particle (the same predictive per example, half the products).
  /// Where weights are drawn, their log q and log p are added to `cost` (when given).
  torch::Tensor forward(const torch::Tensor& x, WeightCost* cost = nullptr);

  /// q over W and c.
  std::vector<GaussianWeights> weights() const { return {{weight_loc_, weight_rho_}, {bias_loc_, bias_rho_}}; }
  const BayesianLayerOptions& options() const { return options_; }

 private:
  BayesianLayerOptions options_;
  torch::Tensor weight_loc_, weight_rho_, bias_loc_, bias_rho_;
};
TORCH_MODULE(BayesianLinear);

}  // namespace elbo::nn
