#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// True when KL(q || p) has a closed form here (Normal||Normal,
/// Bernoulli||Bernoulli, Categorical||Categorical, Laplace||Laplace).
bool has_analytic_kl(const Distribution& q, const Distribution& p);

/// Analytic KL(q || p) per element, [..., D]. For Normals:
/// log(s_p/s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2.
/// Throws std::invalid_argument when there is no closed form, and with a
/// support-mismatch explanation (and the fix) when the KL is infinite,
/// e.g. a continuous q against a Dirac prior.
Tensor kl_elements(const Distribution& q, const Distribution& p);

/// Monte Carlo KL per element from `samples` reparameterized draws of q:
/// mean_s [log q(z_s) - log p(z_s)], elementwise (both must factorize).
/// Differentiable through q's rsample. Same support checks as kl_elements.
Tensor kl_monte_carlo_elements(const Distribution& q, const Distribution& p, int64_t samples);

/// KL(q || p) summed over the event axis: analytic where available, otherwise
/// Monte Carlo with `mc_samples` draws.
Tensor kl(const Distribution& q, const Distribution& p, int64_t mc_samples = 16);

}  // namespace elbo::dist
