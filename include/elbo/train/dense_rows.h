#pragma once
#include "elbo/dist/normal.h"
#include "elbo/train/dense_weight_pass.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace elbo::train {

/// Row blocks narrower than this are not worth a thread of their own.
inline constexpr int64_t kMinRowsPerPart = 32;

/// The row passes of a hand-written step over an MLP held as layers [first, last) of a list of
/// DenseLayer, with ReLU between layers: out[i] and grad[i] are layer i's output and dloss/d(its
/// pre-activation), row-major [rows, out_i]; rows [r0, r0 + m) of each are touched.
struct DenseRows {
  const std::vector<DenseLayer>& layers;
  const std::vector<float*>& out;
  const std::vector<float*>& grad;

  /// out_i = act(A_i W_i^T + b_i), the first layer reading `input` (its rows r0.., row stride
  /// `stride`), each other the previous one's output; ReLU on all but the last.
  void forward(size_t first, size_t last, const float* input, int64_t stride, int64_t r0, int64_t m) const;

  /// dloss/d(input of layer i) = grad_i W_i through the ReLU of the layer below, from the last
  /// layer down; the first layer's into `input_grad` (its rows r0.., row stride `stride`), or
  /// nowhere when null.
  void backward(size_t first, size_t last, float* input_grad, int64_t stride, int64_t r0, int64_t m) const;
};

/// Splits `rows` into `parts` blocks and runs pass(block, r0, r1) for each on `team`, each thread
/// taking the next block not yet taken (the other's too, should it start late). With several
/// parts the caller holds a BlasThreadsScope(1) for the whole step (row passes and weight pass),
/// so each thread's BLAS calls stay on it.
void run_row_blocks(WorkerThreads* team, int parts, int64_t rows,
                    const std::function<void(int block, int64_t r0, int64_t r1)>& pass);

/// log sum_j e^(l_j) over l[0, n), from the largest l_j (no overflow): a row's log-softmax normalizer.
inline float log_sum_exp(const float* l, int64_t n) {
  const float top = *std::max_element(l, l + n);
  float total = 0;
  for (int64_t j = 0; j < n; ++j) total += std::exp(l[j] - top);
  return top + std::log(total);
}

/// log sigma = log sigma_min + softplus(r - log sigma_min): dist::posterior_from_raw's scale.
inline float floored_log_scale(float r) {
  const float floor = static_cast<float>(std::log(dist::kMinPosteriorScale));
  const float x = r - floor;
  return floor + std::max(x, 0.0f) + std::log1p(std::exp(-std::abs(x)));
}

/// d(floored_log_scale)/dr = 1 - sigma_min / sigma.
inline float floored_log_scale_slope(float sigma) {
  return 1.0f - static_cast<float>(dist::kMinPosteriorScale) / sigma;
}

}  // namespace elbo::train
