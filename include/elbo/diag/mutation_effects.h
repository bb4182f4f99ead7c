#pragma once
#include "elbo/model/model.h"

namespace elbo::diag {

using torch::Tensor;

/// The change in ELBO of every single-symbol substitution of one sequence x [L] (class indices of
/// a categorical model), [L, C] in nats: entry (i, c) = ELBO(x with x_i = c) - ELBO(x), 0 where c
/// is x_i. The ELBO of each variant uses the same `particles` noise draws (common random numbers),
/// so the differences carry far less Monte Carlo noise than the ELBOs. A variant effect map in the
/// manner of DeepSequence (Riesselman, Ingraham & Marks 2018). mask [L] (1 = known; undefined =
/// all): an unknown position stays unknown in every variant and its row is 0.
Tensor mutation_effects(model::Model& model, const Tensor& x, const Tensor& mask, int64_t categories,
                        int64_t particles = 64, uint64_t seed = 1);

/// The area under the ROC curve of scores separating positives (label 1) from negatives (label 0):
/// the probability that a random positive scores above a random negative (ties count 1/2).
double auroc(const Tensor& scores, const Tensor& labels);

}  // namespace elbo::diag
