#pragma once
#include "elbo/dist/distribution.h"

#include <torch/arg.h>
#include <torch/nn/module.h>

#include <string>

namespace elbo::nn {

/// Which observation model p(x|z) a decoder parameterizes.
struct LikelihoodOptions {
  LikelihoodOptions(std::string kind, int64_t features) : kind_(std::move(kind)), features_(features) {}
  /// bernoulli | continuous_bernoulli | gaussian | laplace | categorical | poisson | negative_binomial
  TORCH_ARG(std::string, kind);
  /// Observed features D (for categorical: sequence positions L).
  TORCH_ARG(int64_t, features);
  /// gaussian/laplace scale (negative_binomial: its concentration r): "fixed", "shared" (one learned) or
  /// "per_feature" (learned, one per feature).
  TORCH_ARG(std::string, scale_mode) = "per_feature";
  /// Fixed scale, or the learned scale's initial value.
  TORCH_ARG(double, scale) = 1.0;
  /// Classes per position (categorical).
  TORCH_ARG(int64_t, categories) = 4;
};

/// Maps the decoder's raw output [..., raw_features()] to p(x|z).
/// Learned scales are parameters of this module (log-scale, unconstrained).
class LikelihoodImpl : public torch::nn::Module {
 public:
  explicit LikelihoodImpl(const LikelihoodOptions& options);

  /// Width of the raw decoder output this likelihood reads.
  int64_t raw_features() const;
  /// Parameters per observed feature (categorical: the class count).
  int64_t params_per_feature() const;

  dist::DistributionPtr forward(const torch::Tensor& raw);

  const LikelihoodOptions& options() const { return options_; }
  /// gaussian / laplace / negative_binomial: the log scales [1 or features] (a parameter unless
  /// likelihood_scale = "fixed"); undefined otherwise.
  const torch::Tensor& log_scale() const { return log_scale_; }

 private:
  LikelihoodOptions options_;
  torch::Tensor log_scale_;  // gaussian / laplace (negative_binomial: log concentration) only
};
TORCH_MODULE(Likelihood);

}  // namespace elbo::nn
