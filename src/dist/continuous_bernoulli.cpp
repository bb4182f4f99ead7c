#include "elbo/dist/continuous_bernoulli.h"

#include <cmath>

#include "detail.h"

namespace elbo::dist {

// Near l = 0 the closed forms are 0/0 or cancel; below these cut-offs each
// function uses its Taylor series, truncated where the next term is below the
// dtype's rounding error and the closed form's cancellation is still mild.
// Each branch is fed a clamped copy of l so the unused branch stays finite
// (NaN-free gradients through torch::where).

ContinuousBernoulli::ContinuousBernoulli(Tensor logits) : logits_(std::move(logits)) {
  detail::check_parameter(logits_, "elbo::dist::ContinuousBernoulli", "logits");
}

/// log C(l) = log(l / tanh(l/2)) = log|l| - log tanh(|l|/2), with
/// log tanh(a/2) = log(-expm1(-a)) - log1p(e^-a);
/// near 0: log 2 + l^2/12 - 7 l^4/1440 + 31 l^6/90720.
Tensor ContinuousBernoulli::log_normalizer(const Tensor& logits) {
  const double cut = detail::is_double(logits) ? 2e-2 : 1e-1;
  const Tensor small = logits.abs() < cut;
  const Tensor l2 = logits.clamp(-cut, cut).square();
  const Tensor taylor = std::log(2.0) + l2 * (1.0 / 12 + l2 * (-7.0 / 1440 + l2 * (31.0 / 90720)));
  const Tensor a = logits.abs().clamp_min(cut);
  const Tensor closed = a.log() - (-torch::expm1(-a)).log() + torch::log1p((-a).exp());
  return torch::where(small, taylor, closed);
}

/// log p(x) = log C(l) + l x - softplus(l).
Tensor ContinuousBernoulli::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, logits_.sizes(), "elbo::dist::ContinuousBernoulli");
  return log_normalizer(logits_) + x * logits_ - detail::softplus(logits_);
}

/// Inverse CDF x = log1p(u expm1(l)) / l, u ~ U(0, 1) kept off {0, 1}
/// (Loaiza-Ganem & Cunningham 2019, eq. 9). For l > 10 the numerator is
/// logaddexp(log1p(-u), log u + l) to avoid overflow; near l = 0 it is the
/// Bernoulli(u) cumulant series u + l k2/2 + l^2 k3/6 + l^3 k4/24.
Tensor ContinuousBernoulli::rsample(int64_t k) const {
  const auto shape = particle_shape(k);
  const double eps = detail::epsilon(logits_);
  const Tensor u = torch::rand(shape, logits_.options()).clamp(eps, 1 - eps);
  const Tensor l = logits_.expand(shape);
  const double cut = detail::is_double(l) ? 1e-3 : 1e-2;
  const double large = 10.0;

  const Tensor small = l.abs() < cut;
  const Tensor ls = l.clamp(-cut, cut);
  const Tensor k2 = u * (1 - u);
  const Tensor k3 = k2 * (1 - 2 * u);
  const Tensor k4 = k2 * (1 - 6 * k2);
  const Tensor taylor = u + ls * (k2 / 2 + ls * (k3 / 6 + ls * (k4 / 24)));

  const Tensor lm = torch::where(small, detail::scalar_like(l, cut), l).clamp_max(large);
  const Tensor moderate = torch::log1p(u * torch::expm1(lm)) / lm;
  const Tensor lb = l.clamp_min(large);
  const Tensor big = torch::logaddexp(torch::log1p(-u), u.log() + lb) / lb;

  return torch::where(small, taylor, torch::where(l > large, big, moderate));
}

/// E[x] = 1/(1 - e^-l) - 1/l (e^l / expm1(l) - 1/l for l < 0);
/// near 0: 1/2 + l/12 - l^3/720 + l^5/30240.
Tensor ContinuousBernoulli::mean() const {
  const Tensor& l = logits_;
  const double cut = detail::is_double(l) ? 2e-2 : 1e-1;
  const Tensor small = l.abs() < cut;
  const Tensor ls = l.clamp(-cut, cut);
  const Tensor l2 = ls.square();
  const Tensor taylor = 0.5 + ls * (1.0 / 12 + l2 * (-1.0 / 720 + l2 * (1.0 / 30240)));
  const Tensor lp = l.clamp_min(cut);
  const Tensor ln = l.clamp_max(-cut);
  const Tensor closed = torch::where(l > 0, 1 / (-torch::expm1(-lp)) - 1 / lp,
                                     ln.exp() / torch::expm1(ln) - 1 / ln);
  return torch::where(small, taylor, closed);
}

/// H = -(l E[x] - softplus(l) + log C(l)).
Tensor ContinuousBernoulli::entropy_elements() const {
  return detail::softplus(logits_) - logits_ * mean() - log_normalizer(logits_);
}

std::vector<int64_t> ContinuousBernoulli::sample_shape() const { return logits_.sizes().vec(); }

}  // namespace elbo::dist
