#include "elbo/nn/conv_transpose.h"

#include "elbo/core/check.h"

#include <ATen/ops/convolution.h>
#include <ATen/ops/convolution_backward.h>
#include <torch/csrc/autograd/custom_function.h>

namespace elbo::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// conv2d's data gradient for the output gradient g [N, Cin, H, W] at an input of `input_shape`.
torch::Tensor conv2d_data_gradient(const torch::Tensor& g, const torch::Tensor& weight, at::IntArrayRef input_shape,
                                   int64_t stride, int64_t padding) {
  const torch::Tensor shape_only = at::empty(input_shape, g.options());  // only its sizes are read
  return std::get<0>(at::convolution_backward(g, shape_only, weight, c10::nullopt, {stride, stride},
                                              {padding, padding}, {1, 1}, false, {0, 0}, 1, {true, false, false}));
}

struct ConvTranspose2d : torch::autograd::Function<ConvTranspose2d> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               int64_t stride, int64_t padding, int64_t out_h, int64_t out_w) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return conv2d_data_gradient(x.contiguous(), weight, {x.size(0), weight.size(1), out_h, out_w}, stride, padding);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt(), padding = ctx->saved_data["padding"].toInt();
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor dx, dweight;
    if (ctx->needs_input_grad(0))
      dx = at::convolution(g, weight, {}, {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, 1);
    if (ctx->needs_input_grad(1))  // conv2d's weight gradient with g as its input and x as its output gradient
      dweight = std::get<1>(at::convolution_backward(x.contiguous(), g, weight, c10::nullopt, {stride, stride},
                                                     {padding, padding}, {1, 1}, false, {0, 0}, 1,
                                                     {false, true, false}));
    return {dx, dweight, {}, {}, {}, {}};
  }
};

}  // namespace

torch::Tensor conv_transpose2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t stride, int64_t padding, int64_t out_h, int64_t out_w) {
  ELBO_CHECK(x.dim() == 4 && weight.dim() == 4 && weight.size(0) == x.size(1),
             "elbo::nn::conv_transpose2d: expected x [N, Cin, H, W] and weight [Cin, Cout, kH, kW], got x ", x.sizes(),
             " and weight ", weight.sizes());
  ELBO_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(1)),
             "elbo::nn::conv_transpose2d: expected bias [", weight.size(1), "], got ", bias.sizes());
  ELBO_CHECK(stride >= 1 && padding >= 0, "elbo::nn::conv_transpose2d: needs stride >= 1 and padding >= 0 (got ",
             stride, ", ", padding, ")");
  const auto maps_to = [&](int64_t out, int64_t k) { return (out + 2 * padding - k) / stride + 1; };
  ELBO_CHECK(out_h + 2 * padding >= weight.size(2) && out_w + 2 * padding >= weight.size(3) &&
                 maps_to(out_h, weight.size(2)) == x.size(2) && maps_to(out_w, weight.size(3)) == x.size(3),
             "elbo::nn::conv_transpose2d: an output of ", out_h, " x ", out_w, " does not convolve (stride ", stride,
             ", padding ", padding, ", kernel ", weight.size(2), " x ", weight.size(3), ") back to the input's ",
             x.size(2), " x ", x.size(3));
  const torch::Tensor y = ConvTranspose2d::apply(x, weight, stride, padding, out_h, out_w);
  return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

}  // namespace elbo::nn
