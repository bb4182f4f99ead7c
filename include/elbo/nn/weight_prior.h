#pragma once
#include <torch/types.h>

#include <string>

namespace elbo {
class Config;
}

namespace elbo::nn {

/// A prior over each weight of a Bayesian network, independent across weights: a Gaussian
/// N(0, sigma^2), or the scale mixture pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2) of Blundell
/// et al. 2015 ("Weight Uncertainty in Neural Networks", eq. 7): a wide component and a narrow
/// one that pulls weights towards zero.
struct WeightPrior {
  enum class Kind { gaussian, mixture };
  Kind kind = Kind::gaussian;
  double sigma = 1.0;   ///< gaussian
  double pi = 0.5;      ///< mixture: weight of the N(0, sigma1^2) component
  double sigma1 = 1.0;  ///< mixture: the wide component
  double sigma2 = 0.0024787521766663585;  ///< mixture: the narrow component (exp(-6))

  /// log p(w) elementwise.
  torch::Tensor log_prob(const torch::Tensor& w) const;
  /// Whether KL(N(m, s^2) || p) has a closed form (the Gaussian prior).
  bool has_closed_form_kl() const { return kind == Kind::gaussian; }
  /// The closed form sum_i KL(N(m_i, s_i^2) || N(0, sigma^2)) = sum_i log(sigma / s_i) +
  /// (s_i^2 + m_i^2) / (2 sigma^2) - 1/2 (Gaussian prior only).
  torch::Tensor kl(const torch::Tensor& loc, const torch::Tensor& scale) const;

  /// model.weights.prior ("gaussian" | "mixture"), .sigma, .pi, .sigma1, .sigma2.
  static WeightPrior from_config(const Config& config);
};

}  // namespace elbo::nn
