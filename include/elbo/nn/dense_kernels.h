#pragma once
#include <cstdint>

namespace elbo::nn {

/// Whether sgemm() has a BLAS behind it (CMake found cblas_sgemm in the BLAS LibTorch links).
bool have_sgemm();

/// Row-major C[m, n] = op(A) op(B) through cblas_sgemm (C zeroed here, then beta = 1), or
/// C += op(A) op(B) when `accumulate`: op(A) = A^T when trans_a (A stored [k, m]), op(B) = B^T
/// when trans_b (B stored [n, k]); lda, ldb, ldc are the row strides as stored. Throws when
/// built without a BLAS.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc, bool accumulate = false);

/// h[r, j] = act(h[r, j] + bias[j]) for rows x n row-major h, act = ReLU (NaN stays NaN,
/// as in ATen's relu) or the identity.
void add_bias(float* h, const float* bias, int64_t rows, int64_t n, bool relu);

/// sum_i v_i^2 in one vectorized pass (float lanes summed in double at the end); NaN or
/// Inf in v gives NaN or Inf.
double squared_norm(const float* v, int64_t n);

}  // namespace elbo::nn
