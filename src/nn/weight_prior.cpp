#include "elbo/nn/weight_prior.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/core/math_constants.h"

#include <cmath>

namespace elbo::nn {
namespace {

/// log N(w; 0, s^2) elementwise.
torch::Tensor log_gaussian(const torch::Tensor& w, double s) {
  return -0.5 * (w / s).square() - (std::log(s) + kHalfLog2Pi);
}

}  // namespace

torch::Tensor WeightPrior::log_prob(const torch::Tensor& w) const {
  if (kind == Kind::gaussian) return log_gaussian(w, sigma);
  return torch::logaddexp(log_gaussian(w, sigma1) + std::log(pi), log_gaussian(w, sigma2) + std::log1p(-pi));
}

torch::Tensor WeightPrior::kl(const torch::Tensor& loc, const torch::Tensor& scale) const {
  ELBO_CHECK(has_closed_form_kl(), "elbo::nn::WeightPrior: the scale-mixture prior has no closed-form KL");
  const double v = sigma * sigma;
  return (std::log(sigma) - scale.log() + (scale.square() + loc.square()) / (2 * v) - 0.5).sum();
}

WeightPrior WeightPrior::from_config(const Config& c) {
  WeightPrior p;
  const std::string& kind = c.get_string("model.weights.prior");
  p.kind = kind == "mixture" ? Kind::mixture : Kind::gaussian;
  p.sigma = c.get_double("model.weights.sigma");
  p.pi = c.get_double("model.weights.pi");
  p.sigma1 = c.get_double("model.weights.sigma1");
  p.sigma2 = c.get_double("model.weights.sigma2");
  ELBO_CHECK(p.pi > 0 && p.pi < 1, "model.weights.pi must be in (0, 1) (got ", p.pi, ")");
  return p;
}

}  // namespace elbo::nn
