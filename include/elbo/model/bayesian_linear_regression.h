#pragma once
#include "elbo/dist/normal.h"
#include "elbo/model/model.h"

namespace elbo::model {

/// Settings of Bayesian linear regression.
struct BayesianLinearRegressionOptions {
  int64_t features = 1;       ///< inputs P per example (x [B, P]); the target is one float per example
  int64_t examples = 1;       ///< training examples N: each example carries 1/N of KL(q(w) || p(w))
  double prior_scale = 1.0;   ///< p(w) = N(0, prior_scale^2 I)
  double noise_scale = 1.0;   ///< p(t | x, w) = N(x . w, noise_scale^2), known
  double initial_scale = 0.05;  ///< q(w) starts at N(0, initial_scale^2 I): narrow, as Blundell et al. 2015 start
};

/// Bayesian linear regression with a global latent site (Bishop 2006, ch. 3; the mean-field
/// view of Blundell et al. 2015): weights w ~ N(0, s_p^2 I), targets t_n ~ N(x_n . w, s^2),
/// and a mean-field Gaussian q(w) = N(m, diag exp(2 rho)). Its trace has the global site "w"
/// (K draws, each shared by the batch; the closed-form KL carried 1/N per example) and the
/// observed site "target". The exact posterior is N(mu, Lambda^-1) with
/// Lambda = I / s_p^2 + X^T X / s^2 and mu = Lambda^-1 X^T t / s^2; the mean-field optimum
/// has m = mu and variances 1 / diag(Lambda) (tested against these closed forms).
class BayesianLinearRegressionImpl : public Model {
 public:
  explicit BayesianLinearRegressionImpl(const BayesianLinearRegressionOptions& options);

  Trace forward(const Batch& batch, int64_t particles) override;
  int64_t latent_dim() const override { return 0; }
  int64_t features() const override { return options_.features; }
  std::string describe() const override;

  /// q(w) over [P].
  dist::Normal weights() const { return dist::Normal(loc_, log_scale_); }
  /// The predictive distribution of the targets of inputs x [B, P] under the K draws of w:
  /// N(x . w_k, s^2), [K, B].
  dist::Normal predictive(const Tensor& x, const Tensor& w) const;
  const BayesianLinearRegressionOptions& options() const { return options_; }

 private:
  BayesianLinearRegressionOptions options_;
  Tensor loc_, log_scale_;  // parameters of q(w), [P]
};
TORCH_MODULE(BayesianLinearRegression);

}  // namespace elbo::model
