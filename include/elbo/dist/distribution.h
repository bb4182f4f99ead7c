#pragma once
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace elbo::dist {

using torch::Tensor;

/// A factorized distribution over the last axis (the event axis) of its
/// parameters, following torch.distributions. Parameters are unconstrained
/// tensors (logits, log-scales), so no value can leave its support.
///
/// Shapes: parameters are [..., D]; `log_prob(x)` sums the per-element terms
/// over the last axis and returns [...]. Parameters broadcast against x, so a
/// likelihood with parameters [K, B, D] scores data [B, D] for K particles.
/// (Categorical keeps a class axis after the event axis: logits [..., L, C].)
class Distribution {
 public:
  virtual ~Distribution() = default;

  /// Short name used in messages, e.g. "Normal".
  virtual std::string name() const = 0;

  /// Per-element log density or mass; the shape of x broadcast with the batch.
  virtual Tensor log_prob_elements(const Tensor& x) const = 0;

  /// log p(x) summed over the event axis; masked-out elements (mask == 0)
  /// contribute exactly nothing. mask broadcasts against x; undefined = all observed.
  /// Masked-out values of x are never read (NaN there is fine, gradients stay finite).
  Tensor log_prob(const Tensor& x, const Tensor& mask = {}) const;

  /// log p(x) summed over the event axis, no mask: log_prob_elements(x).sum(-1)
  /// unless a distribution has a faster way.
  virtual Tensor log_prob_sum(const Tensor& x) const { return log_prob_elements(x).sum(-1); }

  /// True when rsample() is implemented (torch.distributions' has_rsample).
  virtual bool has_rsample() const { return false; }

  /// Reparameterized sample (gradients flow to the parameters). k = 0 draws
  /// one sample of the parameters' shape; k > 0 prepends a particle axis [k, ...].
  /// Throws std::invalid_argument for distributions without a reparameterization.
  virtual Tensor rsample(int64_t k = 0) const;

  /// Sample without gradient; defaults to rsample under NoGradGuard.
  virtual Tensor sample(int64_t k = 0) const;

  /// E[x], shape of the samples.
  virtual Tensor mean() const = 0;

  /// Per-element entropy; throws where there is no closed form.
  virtual Tensor entropy_elements() const;

  /// Entropy summed over the event axis.
  Tensor entropy() const;

  /// The shape of one sample (the broadcast parameter shape).
  virtual std::vector<int64_t> sample_shape() const = 0;

  /// The unconstrained parameters, each broadcast to sample_shape() (Normal, Laplace: loc and
  /// log-scale), for optimizing a copy per example (non-amortized inference); the default throws.
  virtual std::vector<Tensor> parameters() const;
  /// The same family with `parameters` (in the order of parameters()) in place of its own.
  virtual std::shared_ptr<Distribution> with_parameters(const std::vector<Tensor>& parameters) const;

 protected:
  /// Sizes for k particles: [k, sample_shape...] or sample_shape when k == 0.
  std::vector<int64_t> particle_shape(int64_t k) const;
};

using DistributionPtr = std::shared_ptr<Distribution>;

/// Rows [begin, end) (axis 0: examples) of a per-example q's parameters, converted to `options`
/// (device, dtype): the q of one block of a data set.
DistributionPtr slice_rows(const Distribution& q, int64_t begin, int64_t end, const torch::TensorOptions& options);

/// Per-example qs of one family stacked along axis 0, their parameters converted to `options`:
/// the q of a data set from the qs of its blocks.
DistributionPtr cat_rows(const std::vector<DistributionPtr>& parts, const torch::TensorOptions& options);

}  // namespace elbo::dist
