#pragma once
#include "elbo/data/schema.h"
#include "elbo/model/model.h"
#include "elbo/nn/bayesian_gru_cell.h"

namespace elbo {
class Config;
}

namespace elbo::model {

/// Settings of a Bayesian recurrent network on windows of a time series.
struct BrnnOptions {
  int64_t channels = 1;  ///< values per time step C
  int64_t window = 2;    ///< time steps per window W (x [B, W * C], step-major)
  int64_t hidden = 32;   ///< GRU state size
  /// The share of KL(q(w) || p(w)) each window carries. Overlapping windows count each of the
  /// series' T - 1 transitions about W - 1 times; a share of (W - 1) / (T - 1) keeps the KL's
  /// weight what it would be were every transition scored once.
  double share = 1.0;
  nn::BayesianLayerOptions layers;

  /// model.hidden[0], model.weights.*, data.window, data.stride; C from the schema's features.
  static BrnnOptions from_config(const Config& config, const data::Schema& schema);
};

/// A Bayesian GRU forecaster (Fortunato, Blundell & Vinyals 2017): weights w with a prior and
/// a mean-field q(w), drawn once per particle for the whole batch of windows; the state after
/// x_1..x_t gives the one-step likelihood x_{t+1} ~ N(mu_t, sigma_t^2) (a Bayesian linear
/// head; sigma_t = softplus + 1e-3), scored for t = 1..W-1 as the observed site "x".
/// Forecasts feed their own samples back, so the spread of the paths grows with the horizon
/// from both the noise and the weight uncertainty.
class BrnnImpl : public Model {
 public:
  explicit BrnnImpl(const BrnnOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  int64_t latent_dim() const override { return 0; }
  int64_t features() const override { return options_.channels * options_.window; }
  std::string describe() const override;

  /// `draws` sample paths of the `horizon` values after `context` [T, C] (each path one draw
  /// of the weights; the state built from the context, then its own samples fed back): [draws, horizon, C].
  Tensor forecast(const Tensor& context, int64_t horizon, int64_t draws);
  std::vector<nn::GaussianWeights> weights() const;
  const BrnnOptions& options() const { return options_; }

 private:
  /// mean and scale of the next value from states h [K, B, H]: [K, B, C] each.
  std::pair<Tensor, Tensor> next(const Tensor& h, const nn::BayesianLinearImpl::Draw& head) const;

  BrnnOptions options_;
  Tensor kl_share_;  // options.share, a buffer: a run loaded back scores its KL as training did
  nn::BayesianGruCell cell_{nullptr};
  nn::BayesianLinear head_{nullptr};
};
TORCH_MODULE(Brnn);

}  // namespace elbo::model
