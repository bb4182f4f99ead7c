#pragma once
#include "elbo/nn/weight_prior.h"

#include <torch/types.h>

#include <utility>
#include <vector>

namespace elbo::nn {

/// The mean-field Gaussian posterior q(w) = N(loc, softplus(rho)^2) over one weight tensor
/// (Blundell et al. 2015: the scale through a softplus stays positive for every rho).
struct GaussianWeights {
  torch::Tensor loc, rho;

  torch::Tensor scale() const;
  /// scale^2 = softplus(rho)^2, in one pass forward and one backward (d/drho = 2 s sigmoid(rho)).
  torch::Tensor variance() const;
};

/// k draws w = loc + softplus(rho) eps of one tensor with log q(w) and log p(w) at each. On the
/// CPU (float32 and float64) eps is the counter-based noise of a key drawn from LibTorch's
/// generator (core/counter_normal.h: draw d is standard_normal(key.for_draw(d), shape)), made in
/// the one pass over the elements that forms w, log q and log p, and made again in the one pass of
/// the backward: no noise or derivative is stored. Elsewhere (GPU) eps is torch::randn and the
/// pass is tensor expressions.
struct WeightDraw {
  torch::Tensor value;         ///< [k, shape...], differentiable in loc and rho
  torch::Tensor log_q, log_p;  ///< [k] each, summed over the tensor's elements
};
WeightDraw draw_weights(const GaussianWeights& q, const WeightPrior& prior, int64_t k);

/// What the weights of a Bayesian network cost in the ELBO: KL(q(w) || p(w)) over all its
/// tensors in closed form where the prior has one, and log q(w) and log p(w) summed over the
/// tensors at draws of them (the Monte Carlo estimate of Blundell et al. 2015, eq. 2), for the
/// IWAE weights and for priors without a closed form.
struct WeightCost {
  torch::Tensor kl;     ///< scalar; undefined without a closed form
  torch::Tensor log_q;  ///< [k] at the draws
  torch::Tensor log_p;  ///< [k] at the draws
  /// Adds one tensor's draws.
  void add(const WeightDraw& draw);
};
/// The KL in closed form (where the prior has one) and the densities at one fresh draw of every tensor.
WeightCost weight_cost(const std::vector<GaussianWeights>& weights, const WeightPrior& prior);
/// sum over the tensors of the closed-form KL(q || p); undefined without one.
torch::Tensor closed_form_kl(const std::vector<GaussianWeights>& weights, const WeightPrior& prior);

/// rho with softplus(rho) = scale: log(expm1(scale)).
double rho_of_scale(double scale);

}  // namespace elbo::nn
