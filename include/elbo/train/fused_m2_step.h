#pragma once
#include "elbo/core/worker_threads.h"
#include "elbo/model/m2.h"
#include "elbo/objective/objective.h"
#include "elbo/train/dense_weight_pass.h"
#include "elbo/train/step_report.h"
#include "elbo/train/train_step.h"

#include <optional>
#include <string>
#include <vector>

namespace elbo::train {

/// The training step of the M2 semi-supervised VAE (model/m2.h; Kingma et al. 2014) written out
/// by hand: MLPs with ReLU, a Bernoulli likelihood, the analytic KL and one particle. Each
/// unlabelled batch row r is encoded with every class c, a labelled one with its label alone (the
/// other classes weigh 0) (its encoder's x product once per row, then
/// h_c = relu(W_x x + W_y[:, c] + b)) and decoded from [z_rc, onehot(c)], and
///   loss = (1/B) sum_r [ -sum_c w_rc log p(x_r | z_rc, c) + beta (sum_c w_rc KL_rc + KL_y,r)
///                        - alpha known_r log q(y_r | x_r) ],
/// w_rc = onehot(y_r)_c on labelled rows, q(c | x_r) on the others; KL_y = log C on labelled
/// rows, sum_c q_c (log q_c + log C) on the others. Through the classifier's log-softmax l:
/// dloss/dl_c = (1/B) q_c (beta KL_rc - log p_rc + beta (l_c + log C + 1)) on unlabelled rows,
/// -(alpha / B) [c = y_r] on labelled ones. Forward and backward are sgemm calls and fused loops per
/// block of batch rows, then DenseWeightPass; the same numbers as the autograd path (model
/// forward + objective::beta_elbo) up to float rounding (tests/train/fused_m2_step_test.cpp).
class FusedM2Step : public StepReport {
 public:
  static constexpr bool kReadsLabels = true;

  /// "" when `model` fits the step (and a BLAS is linked), else the reason it does not.
  static std::string unsupported(const model::M2Impl& model);

  /// `threads` (may be null: one thread) must outlive the step; `alpha` is the objective's
  /// classification weight.
  FusedM2Step(model::M2Impl& model, WorkerThreads* threads, double alpha);

  /// The noise of a batch of `rows` rows, shaped as the autograd path draws it: [C, 1, B, D].
  std::vector<int64_t> noise_shape(int64_t rows) const { return {classes_, 1, rows, latent_}; }

  /// Sets every parameter's .grad() (or, with `optimizer`, applies Adam's step as FusedVaeStep
  /// does) for data x [B, F], labels y [B] (undefined: none) known where y_mask > 0 (undefined:
  /// all known) and noise eps [C B, D] (class-major), and returns the loss with its per-row terms
  /// and the metric "label_log_q".
  objective::Value operator()(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& y_mask,
                              const torch::Tensor& eps, double beta, torch::optim::Adam* optimizer = nullptr);

 private:
  std::vector<DenseLayer> layers_;  // the classifier, the encoder, the decoder
  size_t encoder_first_ = 0, decoder_first_ = 0;
  std::optional<DenseWeightPass> weight_pass_;
  int64_t classes_ = 0, latent_ = 0, features_ = 0;
  double alpha_ = 0;
  WorkerThreads* threads_ = nullptr;
  // Buffers kept between steps (sized for rows_ batch rows; the encoder's and decoder's for C
  // class rows each).
  int64_t rows_ = 0;
  std::vector<torch::Tensor> outputs_, grads_;  // per layer [B or C B, out]
  torch::Tensor shared_, shared_grad_;          // the encoder's x product [B, H] and sum_c dloss/d(its pre-activation)
  torch::Tensor codes_, code_grads_;            // the decoder's input [z, onehot(c)] [C B, D + C], its gradient
  torch::Tensor kl_, scores_;                   // per class row: KL(q(z|x,c) || p(z)), log p(x | z, c)
};

/// FusedM2Step as a TrainStep for `model` and `objective` when they fit it, else null with the
/// reason in `why`: the Elbo objective with one particle and the analytic KL, training data on the
/// CPU with every entry observed.
std::unique_ptr<TrainStep> make_fused_m2_step(model::Model& model, const objective::Objective& objective,
                                              const data::Dataset& train, std::string& why);

}  // namespace elbo::train
