#pragma once
#include "elbo/core/worker_threads.h"
#include "elbo/model/vae.h"
#include "elbo/objective/objective.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/train_step.h"

#include <string>
#include <vector>

namespace elbo::train {

/// The training step of the common case written out by hand: an MLP VAE with
/// ReLU layers, a Bernoulli, Gaussian or Laplace likelihood (the latter two with
/// fixed, shared or per-feature scales), q = N(mu, sigma^2), prior N(0, s^2 I),
/// one reparameterized particle and the analytic KL. Forward and backward are
/// direct BLAS calls (sgemm) and fused float32 loops over buffers kept from
/// step to step, with no autograd graph and no allocation after the first step:
///   loss = -(1/B) sum_b log p(x_b | z_b) + beta (1/B) sum_b KL(N(mu_b, sigma_b^2) || N(0, s^2))
/// with the likelihood's derivatives in its decoder output l (Bernoulli:
/// dloss/dl = (sigmoid(l) - x) / B; dist/location_scale_kernel.h for the others, and
/// their log scales'), the KL's closed-form derivatives and the chain rule through
/// z = mu + sigma eps (Kingma & Welling 2014). The same numbers as the autograd path
/// up to float rounding (tests/train/fused_vae_step_test.cpp).
///
/// With a team of T threads (and a BLAS that can be made single-threaded) the batch is
/// split into T row blocks that run forward, likelihood, KL and the input gradients
/// independently, each calling a single-threaded sgemm; then the weight and bias
/// gradients (summed over all rows) are computed in pieces of output units, each
/// taken by the next free thread. Two joins per step instead of one per BLAS call,
/// and the element-wise loops run on every core.
class FusedVaeStep {
 public:
  /// "" when `model` fits the fused step (and a BLAS is linked), else the reason it does not.
  static std::string unsupported(const model::VaeImpl& model);

  /// `threads` (may be null: one thread) must outlive the step.
  explicit FusedVaeStep(model::VaeImpl& model, WorkerThreads* threads = nullptr);

  /// Sets every parameter's .grad() to the gradient of the loss above for data
  /// x [B, F] and noise eps [B, D] (float32, CPU, contiguous) and returns the
  /// loss with the per-example reconstruction, KL and bound, as the Elbo objective does.
  ///
  /// With `optimizer` (whose parameters are exactly the model's), the step instead applies
  /// adam_step's update to each block of weights as soon as its gradient is computed, while
  /// it is in cache, and writes no .grad(): when the loss is finite and every gradient is
  /// provably finite, by Cauchy-Schwarz |dW_oj| = |sum_b G_bo A_bj| <= ||G||_F ||A||_F for a
  /// layer's output gradient G and input A. Otherwise it writes the gradients as without it;
  /// updated() tells which happened.
  objective::Value operator()(const torch::Tensor& x, const torch::Tensor& eps, double beta,
                              torch::optim::Adam* optimizer = nullptr);

  /// The L2 norm of all the gradients the last call computed (NaN or Inf if any entry is),
  /// computed as they were written.
  double gradient_norm() const { return gradient_norm_; }

  /// The last call's sums of the per-example bound, reconstruction and KL (in double).
  const objective::MetricSums& metric_sums() const { return metric_sums_; }

  /// Whether the last call applied the optimizer's step.
  bool updated() const { return updated_; }

 private:
  struct Layer {
    torch::Tensor weight, bias;  // [out, in], [out]
    int64_t in = 0, out = 0;
  };
  std::vector<Layer> layers_;  // encoder then decoder
  struct Piece {               // output units [o0, o1) of one layer: a task of the weight pass
    size_t layer;
    int64_t o0, o1;
  };
  std::vector<Piece> pieces_;  // every layer's, largest first
  int64_t largest_piece_ = 0;  // its dW and db, in floats
  size_t encoder_layers_ = 0;
  torch::Tensor prior_log_scale_;
  enum class Likelihood { bernoulli, gaussian, laplace } likelihood_ = Likelihood::bernoulli;
  torch::Tensor log_scale_;  // gaussian / laplace: the likelihood's log scales [1 or F]
  WorkerThreads* threads_ = nullptr;
  std::vector<torch::Tensor> outputs_;  // per layer, [B, out]: its output, and dloss/d(pre-activation)
  std::vector<torch::Tensor> grads_;    // (but the last layer's, written over its output, the logits)
  torch::Tensor z_, grad_z_;            // [B, D]
  int64_t rows_ = 0;                    // batch rows the buffers hold
  double gradient_norm_ = 0;
  objective::MetricSums metric_sums_;
  bool updated_ = false;
  // Per thread: its block of a layer's dW, then Adam's input; all zeros between uses.
  std::vector<std::vector<float>> weight_grad_blocks_;
};

/// The fused step as a TrainStep for `model` and `objective` when they fit it, else null with the
/// reason in `why`: a Vae that FusedVaeStep supports, the Elbo objective with one particle, the
/// analytic KL, no free bits and no classification term (any beta and warm-up: the objective's
/// kl_weight), and training data on the CPU without missing entries. It draws the noise as
/// dist::Normal::rsample would (randn_batch) and runs on the process's kernel team.
std::unique_ptr<TrainStep> make_fused_vae_step(model::Model& model, const objective::Objective& objective,
                                               const data::Dataset& train, std::string& why);

}  // namespace elbo::train
