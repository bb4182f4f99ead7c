#pragma once
#include "elbo/data/dataset.h"
#include "elbo/dist/distribution.h"
#include "elbo/dist/normal.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace elbo::model {

using data::Batch;
using torch::Tensor;

/// Per-example, per-particle terms of one group of latent variables
/// (a VAE has one group; a hierarchical model has one per layer).
struct LatentTerms {
  std::string name;  ///< e.g. "z", "z1", "z2"
  Tensor z;          ///< [K, B, D] the particles drawn from q
  Tensor log_q;      ///< [K, B] log q(z | parents), summed over D
  Tensor log_p;      ///< [K, B] log p(z | parents), summed over D
  Tensor kl;         ///< [K or 1, B, D] analytic KL(q || p) per dimension; undefined if none exists
  Tensor q_mean;     ///< [B, D] E_q[z] (for active units); may be undefined
  Tensor q_log_scale;  ///< [B, D] log sigma of a Gaussian q (with q_mean its parameters); undefined otherwise
};

/// Draws K reparameterized particles z ~ q and scores them: log q(z), log p(z),
/// the analytic KL per dimension (when q and p have one) and E_q[z].
LatentTerms sample_latent(std::string name, const dist::Distribution& q, const dist::Distribution& p,
                          int64_t particles);

/// What a model returns for a batch and K particles: the terms of the joint
/// it defines, never a loss. Every objective and diagnostic is written
/// against this, so a new model family gets all of them unchanged.
struct Terms {
  Tensor log_px_z;                  ///< [K, B] log p(x | z), summed over observed features
  std::vector<LatentTerms> latents;

  /// Importance log-weights log p(x, z) - log q(z | x): [K, B].
  Tensor log_weights() const;
  /// Analytic KL summed over groups and dimensions, [K or 1, B]; undefined if any group lacks one.
  Tensor analytic_kl() const;
  /// Monte Carlo KL: sum over groups of log q - log p, [K, B].
  Tensor monte_carlo_kl() const;
};

/// A latent-variable model p(x, z) with an inference network q(z | x).
/// Implementations: Vae (also conditional), HierarchicalVae (further families behind the same interface).
class Model : public torch::nn::Module {
 public:
  /// Terms for a batch and K >= 1 reparameterized particles per example.
  virtual Terms forward(const Batch& batch, int64_t particles) = 0;

  /// q(z | x) of the latent code used for encoding and interpolation, [B, D].
  virtual dist::Normal posterior(const Batch& batch) = 0;

  /// Terms of the joint scored under an externally given Gaussian q over the
  /// latent code ([B, D], e.g. refined per-example parameters) instead of the
  /// encoder's: log p(x|z), log p(z), log q(z) for z ~ q. forward(batch, K) of
  /// a model that supports it equals forward_with(batch, posterior(batch), K).
  /// The default throws std::invalid_argument ("<model> does not support external posteriors").
  virtual Terms forward_with(const Batch& batch, const dist::Normal& q, int64_t particles);

  /// p(x | z) for codes z [..., D]. A conditional model decodes unlabelled
  /// codes with labels cycling 0, 1, ..., classes()-1 along the flattened leading axes.
  virtual dist::DistributionPtr likelihood(const Tensor& z) = 0;

  /// p(x | z, y) with int64 labels y broadcastable to z's leading shape (undefined = as likelihood(z)).
  /// Unconditional models ignore y: the default is likelihood(z).
  virtual dist::DistributionPtr likelihood(const Tensor& z, const Tensor& y) { return likelihood(z); }

  /// Classes of the label y a conditional model sees (q(z | x, y), p(x | z, y)); 0 = unconditional.
  virtual int64_t classes() const { return 0; }

  /// n codes drawn from the prior, [n, D].
  virtual Tensor sample_prior(int64_t n) = 0;

  /// Dimensions of the latent code.
  virtual int64_t latent_dim() const = 0;

  /// Observed features per example.
  virtual int64_t features() const = 0;
};

}  // namespace elbo::model
