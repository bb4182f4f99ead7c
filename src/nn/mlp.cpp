#include "elbo/nn/mlp.h"

#include "elbo/core/check.h"

namespace elbo::nn {

MlpImpl::MlpImpl(const MlpOptions& options) : options_(options) {
  ELBO_CHECK(options.in() > 0 && options.out() > 0, "elbo::nn::Mlp: sizes must be positive (got in=",
             options.in(), ", out=", options.out(), ")");
  std::vector<int64_t> sizes{options.in()};
  for (int64_t h : options.hidden()) {
    ELBO_CHECK(h > 0, "elbo::nn::Mlp: hidden sizes must be positive (got ", h, ")");
    sizes.push_back(h);
  }
  sizes.push_back(options.out());
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    layers_.push_back(register_module("layer" + std::to_string(i), torch::nn::Linear(sizes[i], sizes[i + 1])));
  torch::NoGradGuard no_grad;
  layers_.back()->weight.mul_(options.output_init_scale());
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  ELBO_CHECK(x.dim() >= 1 && x.size(-1) == options_.in(), "elbo::nn::Mlp: expected input [..., ",
             options_.in(), "], got ", x.sizes());
  torch::Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) h = activate(h, options_.activation());
  }
  return h;
}

}  // namespace elbo::nn
