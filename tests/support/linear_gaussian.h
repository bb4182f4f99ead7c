#pragma once
// A linear-Gaussian latent model (probabilistic PCA, Tipping & Bishop 1999)
// whose evidence and posterior have closed forms:
//   p(z) = N(0, I),  p(x|z) = N(W z + b, s^2 I)
//   p(x) = N(b, W W^T + s^2 I)
//   p(z|x) = N(S W^T (x - b) / s^2, S),  S = (I + W^T W / s^2)^-1
// With orthogonal columns of W the posterior covariance S is diagonal, so a
// diagonal Gaussian q can equal it exactly. Everything is float64.
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"

#include <cmath>

namespace elbo::testing {

class LinearGaussian : public model::Model {
 public:
  /// W [D, L], b [D], noise scale s; q = exact posterior shifted by `mean_shift`
  /// and with log-scales offset by `log_scale_shift` (0, 0 = exact).
  LinearGaussian(torch::Tensor W, torch::Tensor b, double s, double mean_shift = 0, double log_scale_shift = 0)
      : W_(W.to(torch::kDouble)), b_(b.to(torch::kDouble)), s_(s), mean_shift_(mean_shift), log_scale_shift_(log_scale_shift) {}

  /// Exact posterior covariance S (full) and mean for x [B, D].
  torch::Tensor posterior_covariance() const {
    auto L = W_.size(1);
    return torch::inverse(torch::eye(L, torch::kDouble) + W_.t().mm(W_) / (s_ * s_));
  }
  torch::Tensor posterior_mean(const torch::Tensor& x) const {
    return (x - b_).mm(W_).mm(posterior_covariance()) / (s_ * s_);
  }
  /// Closed-form log p(x) [B].
  torch::Tensor log_evidence(const torch::Tensor& x) const {
    const auto D = W_.size(0);
    torch::Tensor C = W_.mm(W_.t()) + s_ * s_ * torch::eye(D, torch::kDouble);
    torch::Tensor r = x - b_;
    torch::Tensor quad = (r.mm(torch::inverse(C)) * r).sum(1);
    return -0.5 * (quad + torch::logdet(C) + D * std::log(2 * M_PI));
  }
  /// Closed-form KL(q || p(z|x)) [B] of this model's q (diagonal) against the exact posterior (full).
  torch::Tensor kl_to_posterior(const torch::Tensor& x) {
    dist::Normal q = posterior(data::Batch{x});
    torch::Tensor S = posterior_covariance();
    torch::Tensor Sinv = torch::inverse(S);
    torch::Tensor var_q = q.scale().pow(2);                       // [B, L]
    torch::Tensor diff = q.loc() - posterior_mean(x);             // [B, L]
    const auto L = static_cast<double>(W_.size(1));
    torch::Tensor trace = (var_q * torch::diagonal(Sinv)).sum(1);
    torch::Tensor quad = (diff.mm(Sinv) * diff).sum(1);
    return 0.5 * (trace + quad - L + torch::logdet(S) - torch::log(var_q).sum(1));
  }

  dist::Normal posterior(const data::Batch& batch) override {
    torch::Tensor mean = posterior_mean(batch.x) + mean_shift_;
    torch::Tensor log_scale = 0.5 * torch::log(torch::diagonal(posterior_covariance())) + log_scale_shift_;
    return dist::Normal(mean, log_scale.expand_as(mean));
  }
  dist::DistributionPtr likelihood(const torch::Tensor& z) override {
    torch::Tensor loc = torch::matmul(z, W_.t()) + b_;
    return std::make_shared<dist::Normal>(loc, torch::full_like(loc, std::log(s_)));
  }
  torch::Tensor sample_prior(int64_t n) override { return torch::randn({n, W_.size(1)}, torch::kDouble); }
  int64_t latent_dim() const override { return W_.size(1); }
  int64_t features() const override { return W_.size(0); }

  model::Terms forward(const data::Batch& batch, int64_t k) override {
    dist::Normal p(torch::zeros({W_.size(1)}, torch::kDouble), torch::zeros({W_.size(1)}, torch::kDouble));
    model::LatentTerms g = model::sample_latent("z", posterior(batch), p, k);
    model::Terms t;
    t.log_px_z = likelihood(g.z)->log_prob(batch.x);
    t.latents.push_back(g);
    return t;
  }

 private:
  torch::Tensor W_, b_;
  double s_, mean_shift_, log_scale_shift_;
};

/// A W [3, 2] with orthogonal columns (diagonal exact posterior).
inline torch::Tensor orthogonal_loadings() {
  return torch::tensor({{1.5, 0.0}, {0.0, 0.8}, {0.5, 0.0}}, torch::kDouble);
}

}  // namespace elbo::testing
