#include "elbo/dist/kl.h"

#include <cmath>

#include "elbo/core/check.h"
#include "elbo/dist/bernoulli.h"
#include "elbo/dist/categorical.h"
#include "elbo/dist/continuous_bernoulli.h"
#include "elbo/dist/dirac.h"
#include "elbo/dist/laplace.h"
#include "elbo/dist/normal.h"
#include "detail.h"

namespace elbo::dist {
namespace {

template <typename Q, typename P = Q>
bool is_pair(const Distribution& q, const Distribution& p) {
  return dynamic_cast<const Q*>(&q) && dynamic_cast<const P*>(&p);
}

bool is_continuous(const Distribution& d) {
  return dynamic_cast<const Normal*>(&d) || dynamic_cast<const Laplace*>(&d) ||
         dynamic_cast<const ContinuousBernoulli*>(&d);
}

void check_support(const Distribution& q, const Distribution& p, const std::string& who) {
  ELBO_CHECK(!(is_continuous(q) && dynamic_cast<const Dirac*>(&p)), who, ": KL(", q.name(),
             " || ", p.name(),
             ") is infinite: q puts probability mass where the point-mass prior has none "
             "(support mismatch: log q/p = +inf wherever z != value). Fix: soften the prior to a "
             "narrow Gaussian, e.g. prior = \"normal\" with prior_scale = 0.01 "
             "(dist::Normal::with_scale)");
}

void check_shapes(const std::vector<int64_t>& q, const std::vector<int64_t>& p, const std::string& who) {
  detail::broadcast_shapes(q, p, who, "q and p");
}

/// log(s_p/s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2.
Tensor kl_normal(const Normal& q, const Normal& p) {
  const Tensor z = (q.loc() - p.loc()) * (-p.log_scale()).exp();
  return p.log_scale() - q.log_scale() +
         0.5 * ((2 * (q.log_scale() - p.log_scale())).exp() + z.square() - 1);
}

/// log(b_p/b_q) + |m_q - m_p|/b_p + (b_q/b_p) exp(-|m_q - m_p|/b_q) - 1.
Tensor kl_laplace(const Laplace& q, const Laplace& p) {
  const Tensor d = (q.loc() - p.loc()).abs();
  return p.log_scale() - q.log_scale() + d * (-p.log_scale()).exp() +
         (q.log_scale() - p.log_scale() - d * (-q.log_scale()).exp()).exp() - 1;
}

/// sigmoid(l_q) (l_q - l_p) + softplus(l_p) - softplus(l_q).
Tensor kl_bernoulli(const Bernoulli& q, const Bernoulli& p) {
  return q.logits().sigmoid() * (q.logits() - p.logits()) + detail::softplus(p.logits()) -
         detail::softplus(q.logits());
}

/// sum_c q_c (log q_c - log p_c), terms with q_c = 0 dropped.
Tensor kl_categorical(const Categorical& q, const Categorical& p) {
  ELBO_CHECK(q.logits().size(-1) == p.logits().size(-1),
             "elbo::dist::kl_elements: Categorical q and p have different class counts (",
             q.logits().size(-1), " vs ", p.logits().size(-1), ")");
  const Tensor probs = q.logits().exp();
  const Tensor terms = probs * (q.logits() - p.logits());
  return torch::where(probs > 0, terms, detail::scalar_like(terms, 0.0)).sum(-1);
}

}  // namespace

bool has_analytic_kl(const Distribution& q, const Distribution& p) {
  return is_pair<Normal>(q, p) || is_pair<Bernoulli>(q, p) || is_pair<Categorical>(q, p) ||
         is_pair<Laplace>(q, p);
}

Tensor kl_elements(const Distribution& q, const Distribution& p) {
  const std::string who = "elbo::dist::kl_elements";
  check_support(q, p, who);
  ELBO_CHECK(has_analytic_kl(q, p), who, ": no closed-form KL(", q.name(), " || ", p.name(),
             "); use kl() or kl_monte_carlo_elements()");
  check_shapes(q.sample_shape(), p.sample_shape(), who);
  if (auto* qn = dynamic_cast<const Normal*>(&q)) return kl_normal(*qn, dynamic_cast<const Normal&>(p));
  if (auto* ql = dynamic_cast<const Laplace*>(&q)) return kl_laplace(*ql, dynamic_cast<const Laplace&>(p));
  if (auto* qb = dynamic_cast<const Bernoulli*>(&q))
    return kl_bernoulli(*qb, dynamic_cast<const Bernoulli&>(p));
  return kl_categorical(dynamic_cast<const Categorical&>(q), dynamic_cast<const Categorical&>(p));
}

Tensor kl_monte_carlo_elements(const Distribution& q, const Distribution& p, int64_t samples) {
  const std::string who = "elbo::dist::kl_monte_carlo_elements";
  check_support(q, p, who);
  ELBO_CHECK(samples > 0, who, ": samples must be positive (got ", samples, ")");
  const auto q_shape = q.sample_shape();
  const auto p_shape = p.sample_shape();
  check_shapes(q_shape, p_shape, who);
  Tensor z = q.has_rsample() ? q.rsample(samples) : q.sample(samples);
  if (p_shape.size() > q_shape.size()) {
    // Keep the particle axis in front of p's extra batch axes.
    std::vector<int64_t> shape{samples};
    shape.insert(shape.end(), p_shape.size() - q_shape.size(), 1);
    shape.insert(shape.end(), q_shape.begin(), q_shape.end());
    z = z.reshape(shape);
  }
  return (q.log_prob_elements(z) - p.log_prob_elements(z)).mean(0);
}

Tensor kl(const Distribution& q, const Distribution& p, int64_t mc_samples) {
  const Tensor elements =
      has_analytic_kl(q, p) ? kl_elements(q, p) : kl_monte_carlo_elements(q, p, mc_samples);
  return elements.sum(-1);
}

}  // namespace elbo::dist
