#pragma once
#include "elbo/core/config.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/likelihood.h"
#include "elbo/nn/mlp.h"

#include <string>
#include <vector>

namespace elbo::model {

/// Architecture of a hierarchical VAE.
struct HierarchicalVaeOptions {
  int64_t features = 784;
  std::vector<int64_t> latent_dims{32, 16};  ///< sizes of z1 (next to x) ... zL (top), L >= 2
  std::string inference = "mean_field";      ///< mean_field | structured
  std::vector<int64_t> hidden{400};          ///< MLP widths of every network (the x decoder mirrors them)
  std::vector<int64_t> encoder_hidden;       ///< widths of the network reading x, when they differ (empty = hidden)
  bool encoder_mask = false;                 ///< the encoder reads [x, mask] (missing data; encoder_input)
  nn::Activation activation = nn::Activation::relu;
  std::string likelihood = "bernoulli";
  std::string likelihood_scale = "per_feature";
  double scale = 1.0;
  int64_t categories = 4;
  double decoder_init_scale = 1.0;

  /// The model.* keys of a run config (model.type = "hvae"), for data with `features`.
  static HierarchicalVaeOptions from_config(const Config& config, int64_t features);
};

/// VAE with L >= 2 stochastic layers (Burda, Grosse & Salakhutdinov 2016, sec. 5;
/// Sønderby et al. 2016): p(x|z1) p(z1|z2) ... p(z_{L-1}|zL) p(zL), p(zL) = N(0, I),
/// p(z_l | z_{l+1}) = N(mu_l(z_{l+1}), diag sigma_l(z_{l+1})^2), one MLP per conditional.
/// Inference:
///  - mean_field: q(z1|x) ... q(zL|x), one MLP from x to every layer's mu and log sigma;
///  - structured: q(z1|x) q(z2|z1) ... q(zL|z_{L-1}), mirroring the generative model.
/// Trace: one latent site per layer, "z1" ... "zL", log_q = log q(z_l | parents),
/// log_p = log p(z_l | z_{l+1}). The analytic KL per dimension is reported where it is
/// a valid estimate of the layer's KL term E_q[log q(z_l|.) - log p(z_l|z_{l+1})]:
/// KL(q(z_l|.) || p(z_l | z_{l+1})) at the sampled z_{l+1} is, when q(z_l|.) does not
/// depend on z_{l+1}, that expectation conditional on z_{l+1}, so its mean over
/// particles is unbiased and the analytic-KL ELBO equals the Monte Carlo ELBO in
/// expectation. That holds for every layer of mean_field q (and of any external q),
/// and for the top layer of structured q; the lower layers of structured q have
/// z_{l+1} ~ q(z_{l+1}|z_l), so their kl is undefined (train structured models with
/// objective.kl = "mc"; the objectives then use log q - log p).
///
/// The code (posterior, likelihood, sample_prior, forward_with) is the
/// concatenation [z1, ..., zL] of latent_dim() = sum of latent_dims dimensions:
/// likelihood(z) decodes its z1 part, sample_prior draws ancestrally from p(zL)
/// downwards, posterior(batch) is the encoder's Gaussian over the concatenation,
/// exact for mean_field; for structured q it is q(z1|x) q(z2|mu_1) ... with each
/// layer conditioned on the mean of the layer below (an approximation: the true
/// marginal q(z2|x) is not Gaussian). forward_with(batch, q, K) scores an external
/// mean-field Gaussian over the concatenation (refine, gaps).
class HierarchicalVaeImpl : public Model {
 public:
  explicit HierarchicalVaeImpl(const HierarchicalVaeOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  Trace forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) override;
  dist::DistributionPtr posterior(const Batch& batch) override;
  using Model::likelihood;
  dist::DistributionPtr likelihood(const Tensor& z) override;
  Tensor sample_prior(int64_t n) override;
  int64_t latent_dim() const override { return latent_dim_; }
  int64_t features() const override { return options_.features; }
  std::string describe() const override;

  const HierarchicalVaeOptions& options() const { return options_; }
  bool structured() const { return options_.inference == "structured"; }
  /// The networks: x -> q's parameters, z1 -> p(x | z1)'s, and z_{l+1} -> p(z_l | z_{l+1})'s for l < L-1.
  const nn::Mlp& encoder() const { return encoder_; }
  const nn::Mlp& decoder() const { return decoder_; }
  const std::vector<nn::Mlp>& down() const { return down_; }
  const nn::Likelihood& likelihood_head() const { return likelihood_; }

 private:
  /// Scores particles zs[l] [K, B, d_l] drawn from qs[l]: log p(x|z1) and one group per layer;
  /// `analytic_below_top`: q(z_l|.) does not depend on z_{l+1}, so every layer gets its KL.
  Trace score(const Batch& batch, const std::vector<dist::Normal>& qs, const std::vector<Tensor>& zs,
              bool analytic_below_top);
  /// p(z_l | z_{l+1}) for layer index l < L-1 (0-based), or the top prior N(0, I) for l = L-1.
  dist::Normal prior(size_t l, const Tensor& above);
  /// x (missing entries as zeros) for the encoder, after checking its shape.
  Tensor input(const Batch& batch) const;

  HierarchicalVaeOptions options_;
  int64_t latent_dim_ = 0;
  nn::Mlp encoder_{nullptr};  ///< x -> (mu, log sigma) of every layer (mean_field) or of z1 (structured)
  std::vector<nn::Mlp> up_;   ///< structured: z_l -> (mu, log sigma) of q(z_{l+1} | z_l)
  std::vector<nn::Mlp> down_; ///< z_{l+1} -> (mu, log sigma) of p(z_l | z_{l+1})
  nn::Mlp decoder_{nullptr};  ///< z1 -> raw parameters of p(x | z1)
  nn::Likelihood likelihood_{nullptr};
};
TORCH_MODULE(HierarchicalVae);

}  // namespace elbo::model
