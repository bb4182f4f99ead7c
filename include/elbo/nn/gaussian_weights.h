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
  /// k draws loc + scale * eps, [k, shape...], differentiable in loc and rho.
  torch::Tensor sample(int64_t k) const;
};

/// What the weights of a Bayesian network cost in the ELBO: KL(q(w) || p(w)) over all its
/// tensors, in closed form where the prior has one, and log q(w) - log p(w) at one fresh draw
/// of every tensor (the Monte Carlo estimate of Blundell et al. 2015, eq. 2) for the IWAE
/// weights and for priors without a closed form.
struct WeightCost {
  torch::Tensor kl;     ///< scalar; undefined without a closed form
  torch::Tensor log_q;  ///< [1] at the draw
  torch::Tensor log_p;  ///< [1] at the draw
};
WeightCost weight_cost(const std::vector<GaussianWeights>& weights, const WeightPrior& prior);

/// rho with softplus(rho) = scale: log(expm1(scale)).
double rho_of_scale(double scale);

}  // namespace elbo::nn
