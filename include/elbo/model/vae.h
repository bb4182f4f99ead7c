#pragma once
#include "elbo/core/config.h"
#include "elbo/core/image_shape.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/autoregressive_sequence.h"
#include "elbo/nn/likelihood.h"

#include <torch/nn/modules/container/any.h>

namespace elbo::model {

/// Architecture of a VAE (Kingma & Welling 2014).
struct VaeOptions {
  int64_t features = 784;            ///< observed features D (categorical: positions)
  ImageShape image{1, 28, 28};       ///< needed by conv encoders/decoders
  int64_t latent_dim = 20;
  std::string encoder = "mlp";       ///< mlp | conv (images) | conv1d (sequences: nn/sequence_conv.h)
  std::string decoder = "mlp";       ///< mlp | conv (images) | conv1d (sequences)
  std::vector<int64_t> hidden{400};  ///< MLP widths (decoder mirrors)
  std::vector<int64_t> encoder_hidden;  ///< MLP encoder widths when they differ (empty = hidden)
  std::vector<int64_t> channels{32, 64};
  int64_t kernel = 9;                ///< conv1d: kernel width (odd)
  std::string padding = "zeros";     ///< conv (images): zeros | circular (periodic lattices; nn::Padding)
  /// categorical: > 0 = an autoregressive decoder reading this many preceding symbols
  /// (nn/autoregressive_sequence.h; the decoder emits channels[0] features per position),
  /// 0 = positions independent given z
  int64_t context = 0;
  int64_t context_hidden = 64;       ///< the autoregressive head's width
  nn::Activation activation = nn::Activation::relu;
  std::string likelihood = "bernoulli";
  std::string likelihood_scale = "per_feature";
  double scale = 1.0;
  int64_t categories = 4;
  std::string prior = "normal";      ///< normal | dirac (refused: support mismatch)
  double prior_scale = 1.0;
  double decoder_init_scale = 1.0;   ///< "small decoder init" remedy for posterior collapse
  bool encoder_mask = false;         ///< the encoder reads [x, mask] (missing data; encoder_input)
  int64_t classes = 0;               ///< > 0: conditional VAE on labels 0..classes-1 (MLP encoder); 0 = unconditional

  /// The model.* keys of a run config, for data with `features` and `image`.
  static VaeOptions from_config(const Config& config, int64_t features, const ImageShape& image);
};

/// Gaussian encoder q(z|x) = N(mu(x), diag sigma(x)^2) (one fused head for
/// mu and log sigma), prior p(z) = N(0, s^2 I), decoder p(x|z) of any
/// likelihood. z = mu + sigma * eps (reparameterization trick).
/// Conditional (options.classes > 0; Sohn, Lee & Yan 2015): q(z | x, y) and
/// p(x | z, y) with p(z) = N(0, s^2 I): the encoder reads [x, onehot(y)], the
/// decoder [z, onehot(y)]; every batch needs labels Batch.y in 0..classes-1.
/// With a categorical likelihood (sequences of class indices x [B, L]) the encoder reads the
/// one-hot symbols (an unobserved position: all zeros).
class VaeImpl : public Model {
 public:
  explicit VaeImpl(const VaeOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  Trace forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) override;
  dist::DistributionPtr posterior(const Batch& batch) override;
  dist::DistributionPtr likelihood(const Tensor& z) override;
  dist::DistributionPtr likelihood(const Tensor& z, const Tensor& y) override;
  int64_t classes() const override { return options_.classes; }
  Tensor sample_prior(int64_t n) override;
  int64_t latent_dim() const override { return options_.latent_dim; }
  int64_t features() const override { return options_.features; }
  std::string describe() const override;

  const VaeOptions& options() const { return options_; }
  /// The encoder and decoder networks (nn::Mlp, or the conv networks of nn/conv.h).
  const torch::nn::AnyModule& encoder() const { return encoder_; }
  const torch::nn::AnyModule& decoder() const { return decoder_; }
  /// The map from the decoder's output to p(x|z), with its learned scales.
  const nn::Likelihood& likelihood_head() const { return likelihood_; }
  /// The prior N(0, s^2 I) over [latent_dim] (parameters on the model's device).
  dist::Normal prior() const;

 private:
  /// [v, onehot(y)] for a conditional model (y checked, broadcast to v's leading shape); v otherwise.
  Tensor with_label(const Tensor& v, const Tensor& y) const;
  /// Refuses a batch without labels (a conditional model).
  void require_labels(const Tensor& y) const;

  /// The encoder's input: encoder_input(batch), or one-hot symbols [B, C * L] (channel-major,
  /// unobserved positions all zeros) for a categorical likelihood.
  Tensor encoder_features(const Batch& batch) const;

  VaeOptions options_;
  nn::AutoregressiveSequence autoregressive_{nullptr};  // options.context > 0
  torch::nn::AnyModule encoder_;
  torch::nn::AnyModule decoder_;
  nn::Likelihood likelihood_{nullptr};
  Tensor prior_log_scale_;  // buffer [latent_dim]
};
TORCH_MODULE(Vae);

}  // namespace elbo::model
