#pragma once
// Predictions of some modalities of a multimodal test set from others, and their report section.
#include "elbo/data/load.h"
#include "elbo/diag/cross_modal.h"
#include "elbo/diag/imputation.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"

#include <string>
#include <utility>
#include <vector>

namespace elbo::run {

/// Predictions of some modalities of a multimodal test set from others (diag::impute with the
/// `from` modalities observed and the `to` ones hidden), in blocks of rows.
struct MultimodalPrediction {
  torch::Tensor mean;            ///< [N, D] double: observed columns as given, the others E[x | x_from]
  torch::Tensor draws;           ///< [M, N, D] double completed copies
  torch::Tensor log_likelihood;  ///< [N] log p^(x_to | x_from) (0 where nothing of `to` is observed)
  torch::Tensor effective_sample_size;  ///< [N] 1 / sum_k w_k^2 of the self-normalized weights
  torch::Tensor scored;          ///< [N] bool: rows having a `from` and a `to` modality
  bool draws_are_means = false;  ///< each draw is E[x | z] of a resampled code (pictures)
};
MultimodalPrediction predict_modalities(model::Model& model, const data::Dataset& test, const std::vector<size_t>& from,
                                        const std::vector<size_t>& to, const diag::ImputationOptions& options);
/// Per predicted modality: RMSE of the mean and 90% coverage against predicting the training mean
/// (continuous), error of the mode against the most frequent training class (categorical); and
/// log p^(x_to | x_from) per row.
std::string prediction_table(const data::Splits& splits, const data::Dataset& test, const std::vector<size_t>& to,
                             const MultimodalPrediction& p);
/// The image modalities sharing the first image modality's channels and height, side by side:
/// [R, C * H * W_sum] and its shape (e.g. a left and a right half make whole images again).
std::pair<torch::Tensor, ImageShape> side_by_side(const torch::Tensor& x, const std::vector<data::Modality>& layout);
/// The report's multimodal section: the cross-modal log-likelihoods, a 2-D projection of the latent
/// means coloured by which modalities each row has, and (image modalities) RUN/cross_generation.png:
/// per row the truth, then every modality decoded from each modality alone and from all.
report::Section multimodal_section(model::Model& model, const data::Dataset& test,
                                   const std::vector<diag::CrossModalScore>& scores, const std::string& dir, int64_t k);

}  // namespace elbo::run
