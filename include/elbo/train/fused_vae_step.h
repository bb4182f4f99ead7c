#pragma once
#include "elbo/core/worker_threads.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/model/vae.h"
#include "elbo/objective/objective.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/dense_weight_pass.h"
#include "elbo/train/step_report.h"
#include "elbo/train/train_step.h"

#include <optional>
#include <string>
#include <vector>

namespace elbo::train {

/// The training step of the common case written out by hand: an MLP VAE with
/// ReLU layers, a Bernoulli, Gaussian or Laplace likelihood (the latter two with
/// fixed, shared or per-feature scales), q = N(mu, sigma^2), one reparameterized
/// particle, and L >= 1 latent layers: the VAE (L = 1, prior N(0, s^2)) or the
/// mean-field hierarchical VAE (p(z_l | z_{l+1}) from a "down" MLP each, p(z_L) = N(0, I),
/// q(z_1..z_L | x) from one encoder). Forward and backward are direct BLAS calls (sgemm)
/// and fused float32 loops over buffers kept from step to step, with no autograd graph
/// and no allocation after the first step:
///   loss = -(1/B) sum_b log p(x_b | z_1b) + beta (1/B) sum_b sum_l KL_l,b
/// with KL_l the analytic KL(N(mu, sigma^2) || N(a, t^2)) at the prior's sampled parents
/// or its one-sample estimate log q(z_l) - log p(z_l | z_{l+1}); the likelihood's
/// derivatives in its decoder output l (Bernoulli: dloss/dl = (sigmoid(l) - x) / B;
/// dist/location_scale_kernel.h for the others, and their log scales'), the KL's
/// closed-form derivatives and the chain rule through z = mu + sigma eps (Kingma &
/// Welling 2014) and through each down network. The same numbers as the autograd path
/// up to float rounding (tests/train/fused_vae_step_test.cpp).
///
/// With a team of T threads (and a BLAS that can be made single-threaded) the batch is
/// split into T row blocks that run forward, likelihood, KL and the input gradients
/// independently, each calling a single-threaded sgemm; then the weight and bias
/// gradients (summed over all rows) are computed in pieces of output units, each
/// taken by the next free thread. Two joins per step instead of one per BLAS call,
/// and the element-wise loops run on every core.
class FusedVaeStep : public StepReport {
 public:
  /// "" when `model` fits the fused step (and a BLAS is linked), else the reason it does not.
  static std::string unsupported(const model::VaeImpl& model);
  static std::string unsupported(const model::HierarchicalVaeImpl& model);

  /// `threads` (may be null: one thread) must outlive the step. `monte_carlo_kl`: each
  /// layer's KL term is log q - log p at the sample (objective.kl = "mc"), else analytic.
  explicit FusedVaeStep(model::VaeImpl& model, WorkerThreads* threads = nullptr, bool monte_carlo_kl = false);
  explicit FusedVaeStep(model::HierarchicalVaeImpl& model, WorkerThreads* threads = nullptr,
                        bool monte_carlo_kl = false);

  static constexpr bool kReadsLabels = false;

  /// The training rows of a batch of `rows` rows (its noise's rows): the batch's.
  int64_t training_rows(int64_t rows) const { return rows; }
  /// The noise of a batch of `rows` rows, as the autograd path draws it: [1, B, D].
  std::vector<int64_t> noise_shape(int64_t rows) const { return {1, rows, latent_}; }

  /// Sets every parameter's .grad() to the gradient of the loss above for data
  /// x [B, F] and noise eps [B, D] (float32, CPU, contiguous; D = every layer's
  /// dimensions, z_1 first, as the model's codes) and returns the
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

 private:
  static constexpr int kData = -1, kPrevious = -2;
  struct Net {                   // layers [first, last) of layers_
    size_t first = 0, last = 0;
  };
  /// Appends `mlp`'s layers, the first reading `input`.
  Net add(const nn::MlpImpl& mlp, int input);
  /// z's columns and the weight pass, once every layer is in.
  void plan();
  void set_likelihood(const nn::Likelihood& head, const std::string& name);

  std::vector<DenseLayer> layers_;  // encoder, decoder, then each down network; weight-pass operands set per step
  std::vector<int> inputs_;          // what each reads: kData, kPrevious, or latent layer l >= 0 (z_l)
  Net encoder_, decoder_;
  std::vector<Net> down_;      // down_[l]: z_{l+1} -> (a, raw log t) of p(z_l | z_{l+1})
  std::vector<int64_t> dims_, offsets_;  // latent layer sizes, and their columns in z
  int64_t latent_ = 0;         // their sum D
  std::optional<DenseWeightPass> weight_pass_;
  torch::Tensor top_prior_log_scale_;  // [d_L]: log s of p(z_L) = N(0, s^2)
  bool monte_carlo_kl_ = false;
  enum class Likelihood { bernoulli, gaussian, laplace } likelihood_ = Likelihood::bernoulli;
  torch::Tensor log_scale_;  // gaussian / laplace: the likelihood's log scales [1 or F]
  WorkerThreads* threads_ = nullptr;
  std::vector<torch::Tensor> outputs_;  // per layer, [B, out]: its output, and dloss/d(pre-activation)
  std::vector<torch::Tensor> grads_;    // (but the decoder's last, written over its output, the logits)
  torch::Tensor z_, grad_z_;            // [B, D]
  int64_t rows_ = 0;                    // batch rows the buffers hold
};

/// The fused step as a TrainStep for `model` and `objective` when they fit it, else null with the
/// reason in `why`: a Vae or HierarchicalVae that FusedVaeStep supports, the Elbo objective with
/// one particle (analytic or Monte Carlo KL), no free bits and no classification term (any beta
/// and warm-up: the objective's kl_weight), and training data on the CPU without missing entries. It draws the noise as
/// dist::Normal::rsample would (randn_batch) and runs on the process's kernel team.
std::unique_ptr<TrainStep> make_fused_vae_step(model::Model& model, const objective::Objective& objective,
                                               const data::Dataset& train, std::string& why);

}  // namespace elbo::train
