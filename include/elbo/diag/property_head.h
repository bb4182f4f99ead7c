#pragma once
// A property head p(c | z): a small regression from latent codes to a scalar property, fitted after
// training on encoded data, for searching the latent space (inverse_design.h).
#include "elbo/nn/activation.h"
#include "elbo/nn/mlp.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace elbo::diag {

using torch::Tensor;

/// How the head is fitted.
struct PropertyHeadOptions {
  std::vector<int64_t> hidden = {64};             ///< hidden widths of f ({} = linear)
  nn::Activation activation = nn::Activation::tanh;
  int64_t steps = 2000;                           ///< Adam steps (full batch)
  double lr = 1e-2;                               ///< Adam's learning rate
  double holdout = 0.1;                           ///< fraction of the pairs held out for s^2 and R^2
  uint64_t seed = 1;                              ///< initialization and the held-out draw
  Tensor inputs;                                  ///< [D]: 1 for the dimensions f reads, 0 for those it ignores
                                                  ///< (f(z) = f(z * inputs)); undefined: all
};

/// p(c | z) = N(c; f(z), s^2): f an MLP fitted by least squares to standardized c,
/// f(z) = mean + sd * net(z) in the property's units (net(z * m) with an input mask m: the dimensions a
/// search should not use, e.g. inactive units whose noise the net would otherwise overfit), s^2 the residual
/// variance on held-out pairs.
struct PropertyHead {
  nn::Mlp net{nullptr};  ///< [.., D] -> [.., 1], on the standardized property
  double mean = 0;       ///< mean of c over the fitted pairs
  double sd = 1;         ///< standard deviation of c over the fitted pairs
  double noise_sd = 1;   ///< s: root mean squared held-out residual, in the property's units
  double r2 = 0;         ///< held-out R^2 = 1 - sum (c - f)^2 / sum (c - mean_holdout)^2
  double train_r2 = 0;   ///< the same on the fitted pairs
  int64_t fitted = 0;    ///< pairs fitted
  int64_t held_out = 0;  ///< pairs held out
  Tensor inputs;         ///< [D] float mask of the dimensions read (options.inputs), undefined: all

  /// f(z) [...] for codes z [..., D], in the property's units; differentiable in z.
  Tensor predict(const Tensor& z) const;
  /// log N(c; f(z), s^2) [...] for codes z [..., D]; differentiable in z.
  Tensor log_prob(const Tensor& z, double c) const;
};

/// Fits the head to pairs (z_n, c_n): z [N, D] (e.g. E_q[z | x_n]), c [N] finite. A seeded
/// permutation holds out max(1, round(holdout N)) pairs; the rest are fitted with Adam on the mean
/// squared error of the standardized c (full batch, `steps` steps, the last iterate kept).
/// Refuses fewer than 10 pairs, mismatched shapes and non-finite values, naming them.
PropertyHead fit_property_head(const Tensor& z, const Tensor& c, const PropertyHeadOptions& options = {});

}  // namespace elbo::diag
