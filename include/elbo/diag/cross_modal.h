#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <string>
#include <vector>

namespace elbo::diag {

/// How well the other modalities of a row predict one modality.
struct CrossModalScore {
  std::string modality;
  int64_t rows = 0;        ///< rows that have the modality and at least one other
  double conditional = 0;  ///< mean over those rows of log p^(x_m | x_others), nats per row
  double marginal = 0;     ///< mean of log p^(x_m), nats per row
  /// conditional - marginal: the pointwise information the other modalities carry about m.
  double information() const { return conditional - marginal; }
};

/// For each modality m of a multimodal data set (Dataset::modalities), on the rows that have m
/// and another modality: the conditional log-likelihood of x_m given the others,
///   log p^(x_m | x_o) = log sum_k w_k p(x_m | z_k),  z_k ~ q(z | x_o),  w_k ∝ p(x_o, z_k) / q(z_k | x_o)
/// (self-normalized importance weights with the product of the others' experts as proposal:
/// diag::impute's hidden_log_likelihood), against the marginal log p^(x_m), the IWAE-K estimate
/// with q(z | x_m). Columns a modality standardized are scored in standardized units.
std::vector<CrossModalScore> cross_modal_log_likelihood(model::Model& model, const data::Dataset& data, int64_t k,
                                                         uint64_t seed = 1);

/// [{"modality": .., "rows": .., "conditional": .., "marginal": .., "information": ..}, ...].
Json to_json(const std::vector<CrossModalScore>& scores);

}  // namespace elbo::diag
