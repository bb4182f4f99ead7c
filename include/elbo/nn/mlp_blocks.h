#pragma once
#include "elbo/nn/mlp.h"

#include <functional>

namespace elbo::nn {

/// Whether mlp_blocks() can run `mlp` on `input` [..., in]: no gradient wanted, ReLU,
/// float32 CPU parameters and input, a BLAS linked.
bool mlp_blocks_apply(MlpImpl& mlp, const torch::Tensor& input);

/// The MLP's forward without autograd (evaluation, IWAE particles): rows go through
/// in blocks small enough that every layer's output stays in a core's cache, the
/// blocks shared by kernel_team() with single-threaded sgemm calls and bias + ReLU in
/// one pass. consume(r0, m, out) receives the output of rows [r0, r0 + m) ([m, out]
/// row-major, valid during the call) on the thread that computed it. Only where
/// mlp_blocks_apply(mlp, input).
void mlp_blocks(MlpImpl& mlp, const torch::Tensor& input,
                const std::function<void(int64_t r0, int64_t m, const float* out)>& consume);

}  // namespace elbo::nn
