#include "elbo/nn/dense_kernels.h"

#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"

#include <cstring>

#if defined(ELBO_HAVE_CBLAS)
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);
#endif

namespace elbo::nn {

bool have_sgemm() {
#if defined(ELBO_HAVE_CBLAS)
  return true;
#else
  return false;
#endif
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, bool accumulate) {
#if defined(ELBO_HAVE_CBLAS)
  constexpr int row_major = 101, no_trans = 111, trans = 112;
  // C zeroed here and accumulated into (beta = 1): OpenBLAS's own pass for beta = 0 stores
  // at about a third of memset's speed (perf: sgemm_beta was ~5% of a training step).
  if (!accumulate)
    for (int64_t r = 0; r < m; ++r) std::memset(c + r * ldc, 0, sizeof(float) * n);
  cblas_sgemm(row_major, trans_a ? trans : no_trans, trans_b ? trans : no_trans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), 1.0f,
              c, static_cast<int>(ldc));
#else
  (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc,
      (void)accumulate;
  ELBO_CHECK(false, "elbo::nn::sgemm: elbo was built without a BLAS");
#endif
}

ELBO_VECTOR_CLONES void add_bias(float* h, const float* bias, int64_t rows, int64_t n, bool relu) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = h + r * n;
    if (relu)
      for (int64_t j = 0; j < n; ++j) {
        const float v = row[j] + bias[j];
        row[j] = v < 0 ? 0.0f : v;
      }
    else
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

ELBO_VECTOR_CLONES double squared_norm(const float* v, int64_t n) {
  fast::Vec lanes{};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const fast::Vec x = fast::load(v + i);
    lanes += x * x;
  }
  double sum = 0;
  for (int k = 0; k < 8; ++k) sum += lanes[k];
  for (; i < n; ++i) sum += static_cast<double>(v[i]) * v[i];
  return sum;
}

}  // namespace elbo::nn
