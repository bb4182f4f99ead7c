#include "elbo/train/dense_rows.h"

#include "elbo/core/fast_math.h"
#include "elbo/nn/dense_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace elbo::train {
namespace {

/// g = g where the ReLU output h > 0, else 0.
ELBO_VECTOR_CLONES void relu_backward(float* g, const float* h, int64_t count) {
  for (int64_t i = 0; i < count; ++i) g[i] = h[i] > 0 ? g[i] : 0.0f;
}

}  // namespace

void DenseRows::forward(size_t first, size_t last, const float* input, int64_t stride, int64_t r0, int64_t m) const {
  for (size_t i = first; i < last; ++i) {
    const DenseLayer& l = layers[i];
    float* h = out[i] + r0 * l.out;
    const bool first_layer = i == first;
    nn::sgemm(false, true, m, l.out, l.in, first_layer ? input : out[i - 1] + r0 * l.in, first_layer ? stride : l.in,
              l.weight.data_ptr<float>(), l.in, h, l.out);
    nn::add_bias(h, l.bias.data_ptr<float>(), m, l.out, i + 1 != last);
  }
}

void DenseRows::backward(size_t first, size_t last, float* input_grad, int64_t stride, int64_t r0, int64_t m) const {
  for (size_t i = last; i-- > first;) {
    const DenseLayer& l = layers[i];
    if (i == first && !input_grad) break;
    float* target = i == first ? input_grad : grad[i - 1] + r0 * l.in;
    nn::sgemm(false, false, m, l.in, l.out, grad[i] + r0 * l.out, l.out, l.weight.data_ptr<float>(), l.in, target,
              i == first ? stride : l.in);
    if (i != first) relu_backward(target, out[i - 1] + r0 * l.in, m * l.in);
  }
}

void run_row_blocks(WorkerThreads* team, int parts, int64_t rows,
                    const std::function<void(int block, int64_t r0, int64_t r1)>& pass) {
  std::atomic<int> next_block{0};
  run_parts(team, parts, [&](int) {
    for (int block; (block = next_block.fetch_add(1)) < parts;) {
      const auto [r0, r1] = part_range(rows, block, parts);
      pass(block, r0, r1);
    }
  });
}

}  // namespace elbo::train
