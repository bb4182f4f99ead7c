#pragma once
#include <torch/types.h>

namespace elbo::nn {

/// Transposed convolution x [N, Cin, H, W], weight [Cin, Cout, k, k] (a ConvTranspose2d's), bias [Cout] or
/// undefined -> y [N, Cout, out_h, out_w]:
///   y = bias + conv2d^T(x; weight, stride, padding),
/// the adjoint of conv2d(., weight; stride, padding) from [N, Cout, out_h, out_w] to [N, Cin, H, W] (so
/// out_h is any height that conv2d maps to H; ConvTranspose2d's output_padding picks one). Computed as that
/// adjoint, i.e. as conv2d's data gradient: the forward runs the convolution's backward-data kernel, the
/// backward runs conv2d itself (dx) and its weight gradient (dweight). LibTorch 1.13 on CPU takes a slower path
/// for ConvTranspose2d (im2col and BLAS, 4x slower on a conv VAE's decoder, bench/README.md); this one runs
/// oneDNN's convolution kernels. Differentiable once.
torch::Tensor conv_transpose2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t stride, int64_t padding, int64_t out_h, int64_t out_w);

}  // namespace elbo::nn
