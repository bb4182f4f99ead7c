#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Negative binomial count model with mean mu = exp(log_mean) and concentration (inverse
/// dispersion) r = exp(log_concentration), the Gamma-Poisson mixture of over-dispersed counts
/// (scRNA-seq; Lopez et al. 2018): variance mu + mu^2 / r, and Poisson as r -> infinity.
/// log p(x) = lgamma(x + r) - lgamma(r) - lgamma(x + 1) + r log(r / (r + mu)) + x log(mu / (r + mu)),
/// the two logs as -softplus(log mu - log r) and -softplus(log r - log mu).
class NegativeBinomial : public Distribution {
 public:
  NegativeBinomial(Tensor log_mean, Tensor log_concentration);

  std::string name() const override { return "NegativeBinomial"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  /// x ~ Poisson(lambda), lambda ~ Gamma(r, rate r / mu).
  Tensor sample(int64_t k = 0) const override;
  Tensor mean() const override { return log_mean_.exp(); }
  std::vector<int64_t> sample_shape() const override;

  const Tensor& log_mean() const { return log_mean_; }
  const Tensor& log_concentration() const { return log_concentration_; }

 private:
  Tensor log_mean_;
  Tensor log_concentration_;
};

}  // namespace elbo::dist
