#pragma once
#include "elbo/data/dataset.h"
#include "elbo/data/schema.h"
#include "elbo/dist/distribution.h"
#include "elbo/model/trace.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace elbo::model {

using data::Batch;
using torch::Tensor;

/// Draws K reparameterized particles z ~ q and scores them as the latent site `name`:
/// log q(z), log p(z), the analytic KL per dimension (when q and p have one), q and E_q[z].
Site sample_latent(std::string name, const dist::DistributionPtr& q, const dist::Distribution& p, int64_t particles);

/// The observed site `name` for data x [B, F] (mask: 1 = observed) under p(x | ...).
Site observe(std::string name, const dist::Distribution& p, const Tensor& x, const Tensor& mask = {});

/// What an encoder reads of a batch: x with missing entries (mask 0) set to 0 (a `where`, so a
/// NaN there stays out), followed by the mask itself when `with_mask` ([B, 2 F]; all ones when the
/// batch has none): the encoder then knows which zeros are missing (Mattei & Frellsen 2019).
Tensor encoder_input(const Batch& batch, bool with_mask = false);

/// A latent-variable model p(x, z) with an inference network q(z | x): for a batch and K
/// particles it returns the trace of its named sites (latent, enumerated, observed,
/// global), never a loss. Implementations: Vae (also conditional), HierarchicalVae, M2,
/// BayesianLinearRegression.
class Model : public torch::nn::Module {
 public:
  /// The trace for a batch and K >= 1 reparameterized particles per example.
  virtual Trace forward(const Batch& batch, int64_t particles) = 0;

  /// q(z | x) of the latent code used for encoding and interpolation ([B, D] parameters).
  /// Models without a per-example code throw std::invalid_argument saying so (the default).
  virtual dist::DistributionPtr posterior(const Batch& batch);

  /// The trace with the latent code drawn from an externally given reparameterizable q
  /// (parameters [B, D], e.g. refined per example) instead of the encoder's. forward(batch, K)
  /// of a model that supports it equals forward_with(batch, posterior(batch), K).
  /// The default throws std::invalid_argument ("<model> does not support external posteriors").
  virtual Trace forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles);

  /// p(x | z) for codes z [..., D]. A conditional model decodes unlabelled
  /// codes with labels cycling 0, 1, ..., classes()-1 along the flattened leading axes.
  virtual dist::DistributionPtr likelihood(const Tensor& z);

  /// p(x | z, y) with int64 labels y broadcastable to z's leading shape (undefined = as likelihood(z)).
  /// Unconditional models ignore y: the default is likelihood(z).
  virtual dist::DistributionPtr likelihood(const Tensor& z, const Tensor& y) { return likelihood(z); }

  /// Classes of the label y the model conditions on or infers (conditional VAE, M2); 0 = none.
  virtual int64_t classes() const { return 0; }

  /// q(y | x) as log-probabilities [B, classes()] for a model with a classifier (M2); the default throws.
  virtual Tensor classify(const Batch& batch);
  /// Whether classify() is implemented.
  virtual bool has_classifier() const { return false; }

  /// n codes drawn from the prior, [n, D]; models without a per-example code throw (the default).
  virtual Tensor sample_prior(int64_t n);

  /// Dimensions of the per-example latent code (0: the model has none).
  virtual int64_t latent_dim() const = 0;

  /// Observed features per example.
  virtual int64_t features() const = 0;

  /// What the model is, in one line for reports, e.g. "VAE: mlp encoder, mlp decoder, bernoulli
  /// likelihood, 20 latent dims". The default names the latent size and any classes.
  virtual std::string describe() const;
};

/// MLP widths as "400-200" (describe()).
std::string widths_text(const std::vector<int64_t>& widths);

}  // namespace elbo::model
