#pragma once
#include "elbo/model/trace.h"
#include "elbo/nn/gaussian_weights.h"

#include <string>
#include <vector>

namespace elbo::model {

/// The global site of a Bayesian network's weights under `prior`: its closed-form KL where the
/// prior has one, log q and log p [K, 1] at the K draws the pass used (`drawn`, when its
/// layers drew weights) or else at one fresh draw (nn::weight_cost: the local
/// reparameterization draws none), and the share of the KL each training example carries
/// (1 / N for N examples: Blundell et al. 2015, eq. 8 with pi_i = 1 / M for M equal batches).
/// Its value is undefined.
Site weight_site(const std::string& name, const std::vector<nn::GaussianWeights>& weights,
                 const nn::WeightPrior& prior, double share, const nn::WeightCost& drawn = {});

}  // namespace elbo::model
