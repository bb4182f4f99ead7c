#pragma once
#include "elbo/core/config.h"
#include "elbo/data/modality.h"
#include "elbo/data/schema.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/likelihood.h"
#include "elbo/nn/mlp.h"

namespace elbo::model {

/// Architecture and training subsets of a multimodal VAE.
struct MultimodalVaeOptions {
  std::vector<data::Modality> modalities;  ///< the columns, likelihood and expert widths of each
  int64_t latent_dim = 20;
  std::vector<int64_t> hidden{400};        ///< widths of experts and decoders without their own
  nn::Activation activation = nn::Activation::relu;
  std::string likelihood_scale = "per_feature";
  double scale = 1.0;
  double prior_scale = 1.0;
  double decoder_init_scale = 1.0;
  bool encoder_mask = false;               ///< each expert also reads its modality's mask
  bool subsets = false;                    ///< training adds each present modality's own ELBO
  int64_t random_subsets = 0;              ///< training adds this many random subsets' ELBOs per row
  bool subsets_score_present = false;      ///< a subset's ELBO scores all the row's modalities, not the subset's

  /// model.*, objective.subsets / random_subsets and the modalities of `schema` (or, for a stored
  /// run, of the config's recorded [[data.modalities]]).
  static MultimodalVaeOptions from_config(const Config& config, const data::Schema& schema);
};

/// One latent z behind several modalities (Wu & Goodman 2018, MVAE): p(z) prod_m p(x_m | z), a
/// decoder and observed site per modality (named after it), and a product-of-experts posterior
/// q(z | X) ∝ p(z) prod_{m present} q_m(z | x_m): each modality's encoder gives a Gaussian expert
/// N(mu_m, sigma_m^2), so for any subset of present modalities
///   precision T = 1 / s^2 + sum_m sigma_m^-2,   mean = sum_m sigma_m^-2 mu_m / T,
/// computed in log space (log T as a logsumexp). A row lacks modality m where all its columns
/// are masked; such a modality contributes neither an expert nor a likelihood term.
/// Training with `subsets` / `random_subsets` also scores, for each row, the ELBOs of its single
/// modalities and of random subsets (the paper's sub-sampling), as extra rows of the trace; each
/// expert then runs once per batch row (every subset's product is formed from its outputs) and each
/// decoder only on the rows that score its modality. A subset S's ELBO scores x_S (MVAE) or, with
/// `subsets_score_present`, every modality O the row has:
///   E_{q(z | x_S)} log p(x_O | z) - KL(q(z | x_S) || p(z)) <= log p(x_O),
/// a bound for any q, which trains q(z | x_S) to predict the modalities it does not see (the
/// cross-reconstruction of MMVAE, Shi et al. 2019, and of MoPoE, Sutter et al. 2021).
class MultimodalVaeImpl : public Model {
 public:
  explicit MultimodalVaeImpl(const MultimodalVaeOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  Trace forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) override;
  /// The product of the experts of the modalities present in each row (with the prior expert).
  dist::DistributionPtr posterior(const Batch& batch) override;
  /// p(x | z) over all modalities' columns (a dist::Joint of the decoders' distributions).
  dist::DistributionPtr likelihood(const Tensor& z) override;
  Tensor sample_prior(int64_t n) override;
  int64_t latent_dim() const override { return options_.latent_dim; }
  int64_t features() const override { return features_; }
  std::string describe() const override;

  const MultimodalVaeOptions& options() const { return options_; }
  /// Each modality's networks (x_m -> its expert's mu and log sigma; z -> p(x_m | z)'s raw
  /// parameters) and the prior's log scale [latent_dim].
  const std::vector<nn::Mlp>& expert_nets() const { return experts_; }
  const std::vector<nn::Mlp>& decoder_nets() const { return decoders_; }
  const Tensor& prior_log_scale() const { return prior_log_scale_; }
  /// The training rows of `batch`: its rows, then (with subsets) each row again restricted to each
  /// of its modalities when it has several, then random_subsets random non-empty subsets per row;
  /// `given` masked to the modalities the posterior sees, `scored` to those the ELBO scores.
  struct TrainingRows {
    Batch given, scored;
  };
  TrainingRows training_rows(const Batch& batch) const;

 private:
  /// The training rows as the source row of each [R], the modalities its posterior sees [R, M]
  /// and those its ELBO scores [R, M] (bool).
  struct Subsets {
    Tensor index, chosen, scored;
  };
  Subsets training_subsets(const Batch& batch) const;
  /// The rows `index` of `batch`, each masked to `modalities` [R, M].
  Batch rows_of(const Batch& batch, const Tensor& index, const Tensor& modalities) const;
  /// Each modality's expert on the batch's rows: means and log precisions [B, D] (-inf where the
  /// row lacks the modality).
  struct Experts {
    std::vector<Tensor> loc, log_precision;
  };
  Experts experts(const Batch& batch);
  /// The product of the prior and `experts` for the rows `index` [R] of their batch, each with the
  /// modalities `chosen` [R, M] (all rows, all modalities where undefined).
  dist::DistributionPtr product(const Experts& experts, const Tensor& index = {}, const Tensor& chosen = {}) const;

  MultimodalVaeOptions options_;
  int64_t features_ = 0;
  std::vector<nn::Mlp> experts_;
  std::vector<nn::Mlp> decoders_;
  std::vector<nn::Likelihood> likelihoods_;
  Tensor prior_log_scale_;  // buffer [latent_dim]
};
TORCH_MODULE(MultimodalVae);

}  // namespace elbo::model
