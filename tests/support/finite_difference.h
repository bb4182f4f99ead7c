#pragma once
// Gradient checks: autograd against float64 central finite differences.
#include <torch/types.h>

#include <functional>

namespace elbo::test {

/// Central finite differences (f(x + h e_i) - f(x - h e_i)) / 2h of a scalar
/// function, element by element, in float64. f must be deterministic (reseed
/// the generator inside f when it samples).
inline torch::Tensor finite_difference_gradient(const std::function<double(const torch::Tensor&)>& f,
                                                const torch::Tensor& x, double h = 1e-6) {
  torch::NoGradGuard no_grad;
  const torch::Tensor base = x.detach().to(torch::kDouble).contiguous();
  torch::Tensor grad = torch::zeros_like(base);
  auto flat = base.view(-1);
  auto gflat = grad.view(-1);
  for (int64_t i = 0; i < flat.numel(); ++i) {
    const double xi = flat[i].item<double>();
    torch::Tensor plus = base.clone(), minus = base.clone();
    plus.view(-1)[i] = xi + h;
    minus.view(-1)[i] = xi - h;
    gflat[i] = (f(plus) - f(minus)) / (2 * h);
  }
  return grad;
}

/// Autograd gradient of a scalar function at x (float64).
inline torch::Tensor autograd_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                                       const torch::Tensor& x) {
  const torch::Tensor leaf = x.detach().to(torch::kDouble).requires_grad_(true);
  f(leaf).backward();
  return leaf.grad();
}

}  // namespace elbo::test
