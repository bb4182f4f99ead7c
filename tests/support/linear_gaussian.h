#pragma once
// A linear-Gaussian latent model (probabilistic PCA, Tipping & Bishop 1999)
// whose evidence and posterior have closed forms:
//   p(z) = N(0, I),  p(x|z) = N(W z + b, s^2 I)
//   p(x) = N(b, W W^T + s^2 I)
//   p(z|x) = N(S W^T (x - b) / s^2, S),  S = (I + W^T W / s^2)^-1
// With orthogonal columns of W the posterior covariance S is diagonal, so a
// diagonal Gaussian q can equal it exactly. Everything is float64.
#include "elbo/data/dataset.h"
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

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
  torch::Tensor kl_to_posterior(const torch::Tensor& x) { return kl_to_posterior(x, posterior(data::Batch{x})); }
  /// Closed-form KL(q || p(z|x)) [B] of a q [B, L] that must be a diagonal Gaussian (dist::Normal).
  torch::Tensor kl_to_posterior(const torch::Tensor& x, const dist::DistributionPtr& q) const {
    const auto* normal = dynamic_cast<const dist::Normal*>(q.get());
    if (!normal)
      throw std::invalid_argument("LinearGaussian::kl_to_posterior: q must be a diagonal Normal, got " +
                                  (q ? q->name() : std::string("none")));
    return kl_to_posterior(x, *normal);
  }
  /// Closed-form KL(q || p(z|x)) [B] of any diagonal Gaussian q [B, L].
  torch::Tensor kl_to_posterior(const torch::Tensor& x, const dist::Normal& q) const {
    torch::Tensor S = posterior_covariance();
    torch::Tensor Sinv = torch::inverse(S);
    torch::Tensor var_q = q.scale().pow(2);                       // [B, L]
    torch::Tensor diff = q.loc() - posterior_mean(x);             // [B, L]
    const auto L = static_cast<double>(W_.size(1));
    torch::Tensor trace = (var_q * torch::diagonal(Sinv)).sum(1);
    torch::Tensor quad = (diff.mm(Sinv) * diff).sum(1);
    return 0.5 * (trace + quad - L + torch::logdet(S) - torch::log(var_q).sum(1));
  }

  dist::DistributionPtr posterior(const data::Batch& batch) override {
    torch::Tensor mean = posterior_mean(batch.x) + mean_shift_;
    torch::Tensor log_scale = 0.5 * torch::log(torch::diagonal(posterior_covariance())) + log_scale_shift_;
    return std::make_shared<dist::Normal>(mean, log_scale.expand_as(mean));
  }
  dist::DistributionPtr likelihood(const torch::Tensor& z) override {
    torch::Tensor loc = torch::matmul(z, W_.t()) + b_;
    return std::make_shared<dist::Normal>(loc, torch::full_like(loc, std::log(s_)));
  }
  torch::Tensor sample_prior(int64_t n) override { return torch::randn({n, W_.size(1)}, torch::kDouble); }
  int64_t latent_dim() const override { return W_.size(1); }
  int64_t features() const override { return W_.size(0); }

  model::Trace forward(const data::Batch& batch, int64_t k) override { return forward_with(batch, posterior(batch), k); }

  model::Trace forward_with(const data::Batch& batch, const dist::DistributionPtr& q, int64_t k) override {
    dist::Normal p(torch::zeros({W_.size(1)}, torch::kDouble), torch::zeros({W_.size(1)}, torch::kDouble));
    model::Trace t;
    t.sites.push_back(model::sample_latent("z", q, p, k));
    const torch::Tensor z = t.sites.back().value;
    t.sites.push_back(model::observe("x", *likelihood(z), batch.x, batch.mask));
    return t;
  }

  /// Posterior precision Λ = I + W^T W / s^2 (independent of x).
  torch::Tensor posterior_precision() const {
    return torch::eye(W_.size(1), torch::kDouble) + W_.t().mm(W_) / (s_ * s_);
  }
  /// The optimal mean-field (diagonal) Gaussian for the exact posterior: mean = posterior mean,
  /// variances 1/Λ_ii (Bishop 2006, 10.1.2), and its KL to the posterior, 0.5 (Σ log Λ_ii - log det Λ).
  torch::Tensor mean_field_log_scale() const { return -0.5 * torch::log(torch::diagonal(posterior_precision())); }
  double mean_field_kl() const {
    torch::Tensor P = posterior_precision();
    return 0.5 * (torch::log(torch::diagonal(P)).sum() - torch::logdet(P)).item<double>();
  }
  /// Closed-form mutual information I(x; z) under the model: 0.5 log det(I + W^T W / s^2).
  double mutual_information() const { return 0.5 * torch::logdet(posterior_precision()).item<double>(); }
  /// n draws x ~ p(x) (ancestral: z ~ N(0, I), x = W z + b + s eps).
  torch::Tensor sample_data(int64_t n) const {
    torch::Tensor z = torch::randn({n, W_.size(1)}, torch::kDouble);
    return z.mm(W_.t()) + b_ + s_ * torch::randn({n, W_.size(0)}, torch::kDouble);
  }

 private:
  torch::Tensor W_, b_;
  double s_, mean_shift_, log_scale_shift_;
};

/// A W [3, 2] with orthogonal columns (diagonal exact posterior).
inline torch::Tensor orthogonal_loadings() {
  return torch::tensor({{1.5, 0.0}, {0.0, 0.8}, {0.5, 0.0}}, torch::kDouble);
}

/// A W [3, 2] with non-orthogonal columns (correlated exact posterior).
inline torch::Tensor correlated_loadings() {
  return torch::tensor({{1.0, 0.9}, {0.5, 1.0}, {0.3, -0.2}}, torch::kDouble);
}

/// n examples drawn from the model's p(x) with a fixed seed, as a data set.
inline data::Dataset ppca_data(const LinearGaussian& model, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  data::Dataset d;
  d.x = model.sample_data(n);
  d.name = "ppca";
  return d;
}

}  // namespace elbo::testing
