#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Independent distributions over consecutive blocks of the event axis,
/// p(x) = prod_m p_m(x[..., block m]): the likelihood of a model with one decoder per modality.
/// Block m holds widths[m] values of x (a categorical block: its positions, one class index each).
class Joint : public Distribution {
 public:
  Joint(std::vector<DistributionPtr> parts, std::vector<int64_t> widths);

  std::string name() const override { return "Joint"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  Tensor sample(int64_t k = 0) const override;
  /// Each block's mean; a categorical block gives its most probable class (a value x can hold).
  Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override;

  const std::vector<DistributionPtr>& parts() const { return parts_; }

 private:
  std::vector<DistributionPtr> parts_;
  std::vector<int64_t> widths_;
};

}  // namespace elbo::dist
