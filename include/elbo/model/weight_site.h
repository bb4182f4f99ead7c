#pragma once
#include "elbo/model/trace.h"
#include "elbo/nn/gaussian_weights.h"

#include <string>
#include <vector>

namespace elbo::model {

/// The global site of a Bayesian network's weights under `prior`: its closed-form KL where the
/// prior has one, log q and log p at one fresh draw (nn::weight_cost), and the share 1 / N of
/// the KL each of the N training examples carries (Blundell et al. 2015, eq. 8 with
/// pi_i = 1 / M for M batches of equal size). Its value is undefined: with the local
/// reparameterization no weight tensor is ever drawn.
Site weight_site(const std::string& name, const std::vector<nn::GaussianWeights>& weights,
                 const nn::WeightPrior& prior, double share);

}  // namespace elbo::model
