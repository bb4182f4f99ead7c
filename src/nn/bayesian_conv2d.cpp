#include "elbo/nn/bayesian_conv2d.h"

#include "elbo/core/check.h"

#include <torch/nn/functional/conv.h>

#include <cmath>

namespace elbo::nn {

namespace F = torch::nn::functional;

BayesianConv2dImpl::BayesianConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                                       const BayesianLayerOptions& o)
    : options_(o), stride_(stride), padding_(padding) {
  ELBO_CHECK(in >= 1 && out >= 1 && kernel >= 1 && stride >= 1 && padding >= 0,
             "elbo::nn::BayesianConv2d: bad sizes (in ", in, ", out ", out, ", kernel ", kernel, ", stride ", stride,
             ", padding ", padding, ")");
  const bool conv_init = o.initial_mean_bound <= 0;  // torch::nn::Conv2d's: U(+-1 / sqrt(fan_in))
  const double bound = conv_init ? 1.0 / std::sqrt(static_cast<double>(in * kernel * kernel)) : o.initial_mean_bound;
  const double rho = rho_of_scale(o.initial_scale);
  weight_loc_ = register_parameter("weight_loc", torch::empty({out, in, kernel, kernel}).uniform_(-bound, bound));
  weight_rho_ = register_parameter("weight_rho", torch::full({out, in, kernel, kernel}, rho));
  bias_loc_ = register_parameter("bias_loc", conv_init ? torch::empty({out}).uniform_(-bound, bound) : torch::zeros({out}));
  bias_rho_ = register_parameter("bias_rho", torch::full({out}, rho));
}

torch::Tensor BayesianConv2dImpl::forward(const torch::Tensor& x, WeightCost* cost) {
  ELBO_CHECK(x.dim() == 5 && x.size(2) == weight_loc_.size(1), "elbo::nn::BayesianConv2d: expected inputs [K, B, ",
             weight_loc_.size(1), ", H, W], got ", x.sizes());
  const auto conv = F::Conv2dFuncOptions().stride(stride_).padding(padding_);
  const int64_t k = x.size(0), b = x.size(1);
  const auto q = weights();
  if (options_.sampling == WeightSampling::weights || !is_training()) {  // one kernel per particle
    const WeightDraw w = draw_weights(q[0], options_.prior, k), c = draw_weights(q[1], options_.prior, k);
    if (cost) cost->add(w), cost->add(c);
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < k; ++i) out.push_back(F::conv2d(x[i], w.value[i], F::Conv2dFuncOptions(conv).bias(c.value[i])));
    return torch::stack(out);
  }
  const torch::Tensor flat = x.flatten(0, 1);  // [K B, in, H, W]
  const torch::Tensor mean = F::conv2d(flat, weight_loc_, F::Conv2dFuncOptions(conv).bias(bias_loc_));
  const torch::Tensor var = F::conv2d(flat.square(), q[0].variance(), F::Conv2dFuncOptions(conv).bias(q[1].variance()));
  const torch::Tensor out = mean + var.sqrt() * torch::randn_like(mean);
  return out.view({k, b, out.size(1), out.size(2), out.size(3)});
}

}  // namespace elbo::nn
