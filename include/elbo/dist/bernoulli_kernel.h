#pragma once
#include <cstdint>

namespace elbo::dist {

/// The Bernoulli log-likelihood of float32 rows from logits in one vectorized pass:
///   out[r] = sum_j x l - softplus(l),   l = logits[r, j], x = x[r mod x_rows, j]
/// (x is shared by the particles of an example when x_rows < rows), and, when
/// grad is not null, grad[r, j] = (sigmoid(l) - x) * grad_scale, the derivative of
/// -out[r] * grad_scale; grad may be logits itself (each logit is read before its
/// gradient is written). softplus and sigmoid come from one e^-|l| (core/fast_math.h).
void bernoulli_log_prob_rows(const float* x, int64_t x_rows, const float* logits, int64_t rows, int64_t n, float* out,
                             float* grad = nullptr, float grad_scale = 1.0f);

}  // namespace elbo::dist
