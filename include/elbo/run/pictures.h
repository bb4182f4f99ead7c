#pragma once
// Decoded pictures of a model for the report: prior samples, reconstructions, interpolations,
// latent traversals, analogies, imputations.
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <vector>

namespace elbo::run {

/// Decoded means for the report: prior samples (a conditional model: one row per class),
/// reconstructions, interpolations.
struct Pictures {
  torch::Tensor samples, reconstructions, interpolation;
  int64_t sample_columns = 8, reconstruction_columns = 0, interpolation_columns = 0;
  torch::Tensor traversal;             ///< one row per latent dimension in traversal_dims
  std::vector<int64_t> traversal_dims;
  int64_t traversal_columns = 0;
  /// A model with labels and a code (conditional VAE, M2): per row a test image, then its code
  /// E_q[z|x] decoded with each class in turn (Kingma et al. 2014's analogies: style kept, class changed).
  torch::Tensor analogies;
  int64_t analogy_columns = 0;
};
/// `kl_per_dim` [D] (optional) orders the traversal rows: largest KL first.
Pictures make_pictures(model::Model& model, const data::Dataset& test, const Config& config,
                       const torch::Tensor& kl_per_dim = {});

/// Imputations of the first `rows` examples of `data` for a picture: per example the input (missing
/// entries grey), its mask, the true values, the imputed mean and four imputations.
struct ImputationPicture {
  torch::Tensor images;  ///< [rows * columns, D]
  int64_t columns = 0;
};
ImputationPicture imputation_picture(model::Model& model, const data::Dataset& data, int64_t rows, int64_t particles,
                                     uint64_t seed);

}  // namespace elbo::run
