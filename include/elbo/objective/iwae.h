#pragma once
#include "elbo/objective/objective.h"

namespace elbo::objective {

/// The importance-weighted bound (Burda, Grosse, Salakhutdinov 2016):
/// L_K(x) = log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x); L_1 = ELBO,
/// L_K increases with K towards log p(x).
class Iwae : public Objective {
 public:
  explicit Iwae(int64_t particles);
  int64_t particles() const override { return particles_; }
  Value operator()(const model::Trace& trace, int64_t step) const override;

 private:
  int64_t particles_;
};

/// log (1/K) sum_k exp(log_w_k) over the particle axis 0: [K, B] -> [B].
torch::Tensor log_mean_exp(const torch::Tensor& log_w);

}  // namespace elbo::objective
