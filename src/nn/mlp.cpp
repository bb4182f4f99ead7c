#include "elbo/nn/mlp.h"

#include "elbo/core/check.h"
#include "elbo/nn/mlp_blocks.h"

#include <algorithm>

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
  if (mlp_blocks_apply(*this, x)) {  // evaluation: blocks in cache, on every core
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = options_.out();
    torch::Tensor out = torch::empty(shape, x.options());
    float* o = out.data_ptr<float>();
    const int64_t n = options_.out();
    mlp_blocks(*this, x, [&](int64_t r0, int64_t m, const float* block) { std::copy(block, block + m * n, o + r0 * n); });
    return out;
  }
  return forward_after_first(layers_.front()->forward(x));
}

torch::Tensor MlpImpl::forward_after_first(const torch::Tensor& first) {
  torch::Tensor h = first;
  for (size_t i = 1; i < layers_.size(); ++i) h = layers_[i]->forward(activate(h, options_.activation()));
  return h;
}

}  // namespace elbo::nn
