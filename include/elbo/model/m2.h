#pragma once
#include "elbo/core/config.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/likelihood.h"
#include "elbo/nn/mlp.h"

namespace elbo::model {

/// Architecture of the M2 semi-supervised VAE.
struct M2Options {
  int64_t features = 784;
  int64_t classes = 10;
  int64_t latent_dim = 20;
  std::vector<int64_t> hidden{500};  ///< widths of the classifier, encoder and (mirrored) decoder MLPs
  nn::Activation activation = nn::Activation::relu;
  std::string likelihood = "bernoulli";
  std::string likelihood_scale = "per_feature";
  double scale = 1.0;
  int64_t categories = 4;

  /// The model.* keys of a run config for data with `features` and `classes` label classes.
  static M2Options from_config(const Config& config, int64_t features, int64_t classes);
};

/// The M2 semi-supervised VAE (Kingma, Rezende, Mohamed & Welling 2014):
/// p(y) = Cat(1/C), p(z) = N(0, I), p(x | y, z); q(y | x) = Cat(softmax(f(x))),
/// q(z | x, y) = N(mu(x, y), diag sigma(x, y)^2). The label is the enumerated site "y":
/// observed where Batch.y_mask is 1 (the labelled bound L(x, y)), summed out under q(y | x)
/// elsewhere (U(x) = sum_y q(y|x) L(x, y) + H(q(y|x))); its trace has the latent site "z" and the
/// observed site "x" with a leading class axis [C, K, B]. A batch without labels is all unlabelled.
/// The classification term alpha * log q(y | x) on labelled rows is the objective's
/// (ElboOptions::classification_weight).
class M2Impl : public Model {
 public:
  explicit M2Impl(const M2Options& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  /// q(z | x, y) at the batch's label where known, else at the most probable class under q(y | x).
  dist::DistributionPtr posterior(const Batch& batch) override;
  dist::DistributionPtr likelihood(const Tensor& z) override;
  dist::DistributionPtr likelihood(const Tensor& z, const Tensor& y) override;
  int64_t classes() const override { return options_.classes; }
  Tensor classify(const Batch& batch) override;
  bool has_classifier() const override { return true; }
  Tensor sample_prior(int64_t n) override;
  int64_t latent_dim() const override { return options_.latent_dim; }
  int64_t features() const override { return options_.features; }
  std::string describe() const override;
  const M2Options& options() const { return options_; }
  /// The networks (the fused step's layers): q(y | x), q(z | x, y) on [x, onehot(y)] and
  /// p(x | z, y) on [z, onehot(y)].
  const nn::Mlp& classifier_net() const { return classifier_; }
  const nn::Mlp& encoder_net() const { return encoder_; }
  const nn::Mlp& decoder_net() const { return decoder_; }

 private:
  /// [v, onehot(y)] with y broadcast to v's leading shape.
  Tensor with_label(const Tensor& v, const Tensor& y) const;
  /// q(z | x, y) for x [B, F] (missing entries zeroed) and labels y [..., B].
  dist::Normal encode(const Tensor& x, const Tensor& y);
  Tensor input(const Batch& batch) const;
  /// The batch's labels where known (Batch.y where y_mask > 0, checked to be in range), `fill` [B]
  /// elsewhere, and which rows are known [B] (none in a batch without labels).
  std::pair<Tensor, Tensor> labels_where_known(const Batch& batch, const Tensor& fill) const;

  M2Options options_;
  nn::Mlp classifier_{nullptr}, encoder_{nullptr}, decoder_{nullptr};
  nn::Likelihood likelihood_{nullptr};
};
TORCH_MODULE(M2);

}  // namespace elbo::model
