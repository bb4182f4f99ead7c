#include "elbo/dist/bernoulli_kernel.h"

#include "elbo/core/fast_math.h"

namespace elbo::dist {
namespace {

/// The log-likelihood term x l - softplus(l) and, through `grad`, (sigmoid(l) - x) * scale.
template <class T>
ELBO_FAST_INLINE T term(T x, T l, T* grad, float scale) {
  const T e = fast::exp_nonpositive(-fast::abs(l));
  if (grad) {
    const T inv = 1.0f / (1.0f + e);
    *grad = ((l >= fast::splat<T>(0.0f) ? inv : e * inv) - x) * scale;
  }
  return x * l - (fast::relu(l) + fast::log1p_unit(e));
}

}  // namespace

ELBO_VECTOR_CLONES void bernoulli_log_prob_rows(const float* x, int64_t x_rows, const float* logits, int64_t rows,
                                                int64_t n, float* out, float* grad, float grad_scale) {
  constexpr int64_t width = sizeof(fast::Vec) / sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + (r % x_rows) * n;
    const float* lr = logits + r * n;
    float* gr = grad ? grad + r * n : nullptr;
    fast::Vec acc{};
    int64_t j = 0;
    for (; j + width <= n; j += width) {
      fast::Vec g;
      acc += term(fast::load(xr + j), fast::load(lr + j), gr ? &g : nullptr, grad_scale);
      if (gr) fast::store(gr + j, g);
    }
    float sum = fast::sum(acc);
    for (; j < n; ++j) sum += term(xr[j], lr[j], gr ? gr + j : nullptr, grad_scale);
    out[r] = sum;
  }
}

}  // namespace elbo::dist
