#pragma once
#include <cstdint>

namespace elbo::dist {

/// The Gaussian or Laplace log-likelihood of float32 rows x [rows, n] at locations mu [rows, n]
/// and scales s_j = exp(log_scale[j]) (log_scale[0] for every j when `shared`), in one pass:
///   Gaussian: out[r] = sum_j -u^2 / 2 - log s_j - log(2 pi) / 2,   u = (x - mu) / s_j
///   Laplace:  out[r] = sum_j -|u| - log(2 s_j)
/// and, when grad is not null, grad[r, j] = d(-out[r] grad_scale)/dmu = -u / s_j grad_scale
/// (Laplace: -sign(u) / s_j grad_scale); grad may be mu itself (each location is read before its
/// gradient is written). When grad_log_scale is not null, d(-sum_r out[r] grad_scale)/dlog s_j,
/// -(u^2 - 1) grad_scale (Laplace: -(|u| - 1) grad_scale) summed over the rows, is added to
/// grad_log_scale[j] (to [0] when shared).
void location_scale_log_prob_rows(bool laplace, const float* x, const float* mu, int64_t rows, int64_t n,
                                  const float* log_scale, bool shared, float* out, float* grad = nullptr,
                                  float grad_scale = 1.0f, double* grad_log_scale = nullptr);

}  // namespace elbo::dist
