#include "elbo/dist/dirac.h"

#include <limits>

#include "detail.h"

namespace elbo::dist {

Dirac::Dirac(Tensor value) : value_(std::move(value)) {
  detail::check_parameter(value_, "elbo::dist::Dirac", "value");
}

Tensor Dirac::log_prob_elements(const Tensor& x) const {
  detail::check_value(x, value_.sizes(), "elbo::dist::Dirac");
  return torch::where(x == value_, detail::scalar_like(value_, 0.0),
                      detail::scalar_like(value_, -std::numeric_limits<double>::infinity()));
}

Tensor Dirac::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  return value_.expand(particle_shape(k)).clone();
}

std::vector<int64_t> Dirac::sample_shape() const { return value_.sizes().vec(); }

}  // namespace elbo::dist
