#pragma once
#include "elbo/core/worker_threads.h"
#include "elbo/model/multimodal_vae.h"
#include "elbo/objective/objective.h"
#include "elbo/train/dense_weight_pass.h"
#include "elbo/train/step_report.h"
#include "elbo/train/train_step.h"

#include <optional>
#include <string>
#include <vector>

namespace elbo::train {

/// The training step of a multimodal VAE (model/multimodal_vae.h) written out by hand: MLP
/// experts and decoders with ReLU, Bernoulli and categorical modalities, every modality present
/// in every row, the analytic KL and one particle. The training rows are the batch's rows, then
/// (objective.subsets) each row with one modality's expert alone, in the model's order; each
/// row's posterior is the product of the prior and its experts,
///   log T = logsumexp(log lambda_0, log lambda_m),  w_m = lambda_m / T,
///   mu = sum_m w_m mu_m,  log sigma = -log T / 2,   lambda_m = sigma_m^-2,
/// z = mu + sigma eps, and each decoder scores the rows of the subsets that score its modality.
/// Backward through the product: dmu/dmu_m = w_m, dmu/dlog lambda_m = w_m (mu_m - mu),
/// dlog sigma/dlog lambda_m = -w_m / 2. Forward and backward are sgemm calls and fused loops
/// per block of batch rows (each thread takes every training row of its batch rows), then
/// DenseWeightPass; the same numbers as the autograd path up to float rounding
/// (tests/train/fused_multimodal_step_test.cpp).
class FusedMultimodalStep : public StepReport {
 public:
  /// "" when `model` fits the step (and a BLAS is linked), else the reason it does not.
  static std::string unsupported(const model::MultimodalVaeImpl& model);

  /// `threads` (may be null: one thread) must outlive the step.
  explicit FusedMultimodalStep(model::MultimodalVaeImpl& model, WorkerThreads* threads = nullptr);

  /// The training rows of a batch of `rows` rows.
  int64_t training_rows(int64_t rows) const { return rows * static_cast<int64_t>(subsets_.size()); }
  static constexpr bool kReadsLabels = false;
  /// The noise of a batch of `rows` rows, as the autograd path draws it: [1, training rows, D].
  std::vector<int64_t> noise_shape(int64_t rows) const { return {1, training_rows(rows), latent_}; }

  /// Sets every parameter's .grad() (or, with `optimizer`, applies Adam's step as FusedVaeStep
  /// does) for data x [B, F] and noise eps [training_rows(B), D], and returns the loss
  /// -(1/R) sum_t log p(x_t | z_t) + beta (1/R) sum_t KL_t over the R training rows with their
  /// per-row terms.
  objective::Value operator()(const torch::Tensor& x, const torch::Tensor& eps, double beta,
                              torch::optim::Adam* optimizer = nullptr);

 private:
  struct Modality {
    int64_t begin = 0, width = 0, categories = 0;  // categories 0: Bernoulli
    size_t expert_first = 0, expert_last = 0;       // layers of its expert and decoder in layers_
    size_t decoder_first = 0, decoder_last = 0;
    std::vector<size_t> scored;                     // the subsets whose rows its decoder scores
    int64_t expert_inputs() const { return categories ? width * categories : width; }
  };
  std::vector<Modality> modalities_;
  std::vector<std::vector<bool>> subsets_;  // per subset, the modalities its posterior sees
  std::vector<DenseLayer> layers_;          // each modality's expert, then each one's decoder
  std::optional<DenseWeightPass> weight_pass_;
  torch::Tensor prior_log_scale_;
  int64_t latent_ = 0, features_ = 0;
  WorkerThreads* threads_ = nullptr;
  // Buffers kept between steps (sized for rows_ batch rows).
  int64_t rows_ = 0;
  std::vector<torch::Tensor> inputs_;   // per modality: its expert's input [B, width or width x C]
  std::vector<torch::Tensor> log_precisions_;  // and its log precisions -2 log sigma_m [B, D]
  std::vector<torch::Tensor> outputs_;  // per layer [rows of its net, out]
  std::vector<torch::Tensor> grads_;    // per layer, dloss/d(output) (a decoder's last: its output)
  std::vector<torch::Tensor> codes_;       // per modality: its decoder's z rows [S_m B, D]
  std::vector<torch::Tensor> code_grads_;  // and dloss/d(those rows)
  std::vector<torch::Tensor> scores_;   // per modality: log p(x_m | z) of its decoder's rows
  torch::Tensor z_, mean_, log_sigma_, grad_z_;  // [R, D]
};

/// FusedMultimodalStep as a TrainStep for `model` and `objective` when they fit it, else null with
/// the reason in `why`: the Elbo objective with one particle, the analytic KL, no free bits and no
/// classification term, training data on the CPU with every modality present in every row.
std::unique_ptr<TrainStep> make_fused_multimodal_step(model::Model& model, const objective::Objective& objective,
                                                      const data::Dataset& train, std::string& why);

}  // namespace elbo::train
