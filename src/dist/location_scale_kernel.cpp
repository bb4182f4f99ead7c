#include "elbo/dist/location_scale_kernel.h"

#include "elbo/core/fast_math.h"
#include "elbo/core/math_constants.h"

#include <cmath>
#include <vector>

namespace elbo::dist {

ELBO_VECTOR_CLONES void location_scale_log_prob_rows(bool laplace, const float* x, const float* mu, int64_t rows,
                                                     int64_t n, const float* log_scale, bool shared, float* out,
                                                     float* grad, float grad_scale, double* grad_log_scale) {
  std::vector<float> inverse(n), scale_grad(grad_log_scale ? n : 0, 0.0f);
  double constants = 0;  // sum_j of -log s_j - log(2 pi) / 2 (Laplace: -log(2 s_j))
  for (int64_t j = 0; j < n; ++j) {
    const float l = log_scale[shared ? 0 : j];
    inverse[j] = std::exp(-l);
    constants += laplace ? -(l + std::log(2.0)) : -(l + kHalfLog2Pi);
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float* mr = mu + r * n;
    float* gr = grad ? grad + r * n : nullptr;
    float sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float u = (xr[j] - mr[j]) * inverse[j];
      const float a = laplace ? std::abs(u) : 0.5f * u * u;
      sum += a;
      if (gr) gr[j] = -(laplace ? (u > 0 ? 1.0f : u < 0 ? -1.0f : 0.0f) : u) * inverse[j] * grad_scale;
      if (grad_log_scale) scale_grad[j] -= (laplace ? a : 2 * a) - 1.0f;
    }
    out[r] = static_cast<float>(constants - sum);
  }
  for (int64_t j = 0; j < static_cast<int64_t>(scale_grad.size()); ++j)
    grad_log_scale[shared ? 0 : j] += static_cast<double>(scale_grad[j]) * grad_scale;
}

}  // namespace elbo::dist
