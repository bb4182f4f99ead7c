#pragma once
#include "elbo/data/schema.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/bayesian_conv2d.h"
#include "elbo/nn/bayesian_linear.h"

#include <string>
#include <vector>

namespace elbo {
class Config;
}

namespace elbo::model {

/// Settings of a Bayesian neural network.
struct BnnOptions {
  bool classification = true;  ///< task: classification (categorical) or regression (Gaussian)
  int64_t features = 1;        ///< inputs per example
  int64_t outputs = 1;         ///< classes (classification) or targets per example (regression)
  int64_t examples = 1;        ///< training examples N: each carries 1/N of KL(q(w) || p(w))
  std::vector<int64_t> hidden;
  /// Channels of Bayesian 4x4 stride-2 convolutions (padding 1: each halves H and W, rounding
  /// down) applied to image inputs before the hidden layers; empty = an MLP.
  std::vector<int64_t> channels;
  ImageShape image;  ///< the inputs' shape (needed with channels)
  nn::Activation activation = nn::Activation::relu;
  nn::BayesianLayerOptions layers;
  double noise_scale = 1.0;    ///< regression: initial scale of the learned observation noise
  double student_df = 0;       ///< regression: 0 = Gaussian noise; nu > 0 = Student-t noise with nu degrees of freedom
  int64_t draws = 10;          ///< weight draws averaged by predictions (classify, predictive)

  /// model.task, model.hidden, model.encoder (conv: model.channels), model.activation,
  /// model.classes (or the schema's), model.scale, model.weights.*, eval.draws; features, image
  /// shape, targets and N from the schema.
  static BnnOptions from_config(const Config& config, const data::Schema& schema);
};

/// A Bayesian neural network (Blundell et al. 2015, "Weight Uncertainty in Neural Networks"):
/// optional nn::BayesianConv2d layers, then an MLP of nn::BayesianLinear layers, whose weights w are one global site with prior p(w)
/// and a mean-field Gaussian q(w); classification scores the label "y" under a categorical
/// likelihood, regression the "target" under N(f_w(x), s^2) or a Student-t with nu degrees of
/// freedom and scale s (heavy tails: outliers pull less), with a learned noise scale s
/// (softplus of a free parameter, a point estimate). The ELBO per example is
/// E_q log p(y | x, w) - KL(q(w) || p(w)) / N.
class BnnImpl : public Model {
 public:
  explicit BnnImpl(const BnnOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  int64_t latent_dim() const override { return 0; }
  int64_t features() const override { return options_.features; }
  std::string describe() const override;
  int64_t classes() const override { return options_.classification ? options_.outputs : 0; }
  /// log of the predictive p(y | x) = E_q p(y | x, w), averaged over `draws` weight draws: [B, C].
  Tensor classify(const Batch& batch) override;
  bool has_classifier() const override { return options_.classification; }

  /// The network's outputs under `draws` independent weight draws per example: logits
  /// (classification) or means (regression), [draws, B, outputs]. Where the layers draw weights,
  /// their log densities are added to `cost`.
  Tensor outputs(const Tensor& x, int64_t draws, nn::WeightCost* cost = nullptr);
  /// Regression: the learned noise scale s per target, [outputs].
  Tensor noise_scale() const;
  /// Regression: log p(t | f) elementwise for targets t and network outputs f (broadcast):
  /// Gaussian, or Student-t lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 - log s
  /// - (nu+1)/2 log1p(((t - f)/s)^2 / nu).
  Tensor log_likelihood(const Tensor& target, const Tensor& output) const;
  /// Regression: draws t ~ p(t | f) for outputs f [..., T].
  Tensor sample_noise(const Tensor& output) const;
  /// All weight tensors' posteriors.
  std::vector<nn::GaussianWeights> weights() const;
  const BnnOptions& options() const { return options_; }
  void set_draws(int64_t draws);

 private:
  BnnOptions options_;
  std::vector<nn::BayesianConv2d> convs_;
  std::vector<nn::BayesianLinear> layers_;
  Tensor noise_rho_;  // regression: s = softplus(noise_rho)
  Tensor kl_share_;   // 1 / N, a buffer: a run loaded back scores its KL as training did
};
TORCH_MODULE(Bnn);

}  // namespace elbo::model
