#include "elbo/model/crystal_lattice.h"

#include "elbo/core/check.h"
#include "elbo/dist/categorical.h"

#include <torch/utils.h>

namespace elbo::model {

LatticeGivenCount::LatticeGivenCount(dist::DistributionPtr count, Conditional lattice)
    : count_(std::move(count)), lattice_(std::move(lattice)) {
  ELBO_CHECK(count_ && lattice_ && count_->sample_shape().back() == 1,
             "elbo::model::LatticeGivenCount: needs p(n | z) with sample shape [..., 1] and p(v | z, n)");
}

Tensor LatticeGivenCount::log_prob_elements(const Tensor& x) const {
  ELBO_CHECK(x.dim() >= 1 && x.size(-1) == 7, "elbo::model::LatticeGivenCount::log_prob: expected [..., 7] "
             "(six lattice features, then the count), got ", x.sizes());
  const Tensor n = x.narrow(-1, 6, 1);
  return torch::cat({lattice_(n)->log_prob_elements(x.narrow(-1, 0, 6)), count_->log_prob_elements(n)}, -1);
}

Tensor LatticeGivenCount::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  const Tensor n = count_->sample(k);      // [k, ..., 1]
  const Tensor v = lattice_(n)->sample();  // [k, ..., 6]: the location already has the particle axis
  return torch::cat({v, n.expand(lead_of(v))}, -1);
}

Tensor LatticeGivenCount::mean() const {
  const auto* categorical = dynamic_cast<const dist::Categorical*>(count_.get());
  const Tensor n = categorical ? categorical->logits().argmax(-1).to(categorical->logits().scalar_type()) : count_->mean();
  const Tensor v = lattice_(n)->mean();
  return torch::cat({v, n.expand(lead_of(v))}, -1);
}

std::vector<int64_t> LatticeGivenCount::sample_shape() const {
  std::vector<int64_t> shape = count_->sample_shape();
  shape.back() = 7;
  return shape;
}

std::vector<int64_t> LatticeGivenCount::lead_of(const Tensor& v) {
  std::vector<int64_t> shape = v.sizes().vec();
  shape.back() = 1;
  return shape;
}

}  // namespace elbo::model
