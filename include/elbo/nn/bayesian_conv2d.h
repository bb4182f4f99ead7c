#pragma once
#include "elbo/nn/bayesian_linear.h"

#include <torch/nn/module.h>

#include <vector>

namespace elbo::nn {

/// A 2-D convolution with a mean-field Gaussian posterior over its kernel W [out, in, k, k] and
/// bias c [out]. With the local reparameterization (Kingma, Salimans & Welling 2015) each output
/// is drawn from its Gaussian given x, N(conv(x, m_W) + m_c, conv(x^2, s_W^2) + s_c^2); with
/// WeightSampling::weights (and in predictions) one kernel is drawn per particle.
class BayesianConv2dImpl : public torch::nn::Module {
 public:
  BayesianConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                     const BayesianLayerOptions& options);

  /// x [K, B, in, H, W] -> [K, B, out, H', W']; where kernels are drawn, their log q and log p
  /// are added to `cost` (when given).
  torch::Tensor forward(const torch::Tensor& x, WeightCost* cost = nullptr);

  /// q over W and c.
  std::vector<GaussianWeights> weights() const { return {{weight_loc_, weight_rho_}, {bias_loc_, bias_rho_}}; }

 private:
  BayesianLayerOptions options_;
  int64_t stride_, padding_;
  torch::Tensor weight_loc_, weight_rho_, bias_loc_, bias_rho_;
};
TORCH_MODULE(BayesianConv2d);

}  // namespace elbo::nn
