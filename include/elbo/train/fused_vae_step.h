#pragma once
#include "elbo/model/vae.h"
#include "elbo/objective/objective.h"

#include <string>
#include <vector>

namespace elbo::train {

/// The training step of the common case written out by hand: an MLP VAE with
/// ReLU layers, Bernoulli likelihood, q = N(mu, sigma^2), prior N(0, s^2 I),
/// one reparameterized particle and the analytic KL. Forward and backward are
/// direct BLAS calls (sgemm) and fused float32 loops over buffers kept from
/// step to step, with no autograd graph and no allocation after the first step:
///   loss = -(1/B) sum_b sum_j [x log sigmoid(l) + (1 - x) log sigmoid(-l)]_bj
///          + beta (1/B) sum_b KL(N(mu_b, sigma_b^2) || N(0, s^2))
/// with dloss/dl = (sigmoid(l) - x) / B, the KL's closed-form derivatives and the
/// chain rule through z = mu + sigma eps (Kingma & Welling 2014). The same
/// numbers as the autograd path up to float rounding (tests/test_fused_vae_step.cpp).
class FusedVaeStep {
 public:
  /// "" when `model` fits the fused step (and a BLAS is linked), else the reason it does not.
  static std::string unsupported(const model::VaeImpl& model);

  explicit FusedVaeStep(model::VaeImpl& model);

  /// Sets every parameter's .grad() to the gradient of the loss above for data
  /// x [B, F] and noise eps [B, D] (float32, CPU, contiguous) and returns the
  /// loss with the per-example reconstruction, KL and bound, as the Elbo objective does.
  objective::Value operator()(const torch::Tensor& x, const torch::Tensor& eps, double beta);

 private:
  struct Layer {
    torch::Tensor weight, bias;  // [out, in], [out]
    int64_t in = 0, out = 0;
  };
  std::vector<Layer> encoder_, decoder_;
  torch::Tensor prior_log_scale_;
  std::vector<torch::Tensor> activations_;  // per layer output, encoder then decoder, [B, out]
  torch::Tensor z_, grad_a_, grad_b_;       // [B, D], and two gradient buffers of the widest layer
  int64_t rows_ = 0;                        // batch rows the buffers hold
};

}  // namespace elbo::train
