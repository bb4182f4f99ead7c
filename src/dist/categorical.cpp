#include "elbo/dist/categorical.h"

#include <limits>

#include "elbo/core/check.h"
#include "detail.h"

namespace elbo::dist {

Categorical::Categorical(Tensor logits) {
  const std::string who = "elbo::dist::Categorical";
  detail::check_parameter(logits, who, "logits");
  ELBO_CHECK(logits.dim() >= 2, who, ": logits must be [..., L, C] (at least 2 axes; got ",
             logits.sizes(), ")");
  ELBO_CHECK(logits.size(-1) >= 1, who, ": logits need at least one class (got ", logits.sizes(), ")");
  logits_ = torch::log_softmax(logits, -1);
}

Tensor Categorical::log_prob_elements(const Tensor& x) const {
  const std::string who = "elbo::dist::Categorical";
  const auto batch = logits_.sizes().slice(0, logits_.dim() - 1);
  detail::check_value(x, batch, who);
  const int64_t classes = logits_.size(-1);
  if (x.numel() > 0) {
    const double lo = x.min().item<double>(), hi = x.max().item<double>();
    ELBO_CHECK(lo >= 0 && hi < classes, who, "::log_prob: class indices must lie in [0, ", classes,
               ") (got values in [", lo, ", ", hi, "])");
    if (x.is_floating_point())
      ELBO_CHECK(x.eq(x.round()).all().item<bool>(), who,
                 "::log_prob: class indices must be whole numbers");
  }
  auto shape = detail::broadcast_shapes(x.sizes(), batch, who, "x and parameter");
  const Tensor index = x.to(torch::kLong).expand(shape).unsqueeze(-1);
  shape.push_back(classes);
  return logits_.expand(shape).gather(-1, index).squeeze(-1);
}

/// Gumbel-max: argmax_c (log p_c + g_c), g_c = -log(-log u_c).
Tensor Categorical::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  auto shape = particle_shape(k);
  shape.push_back(logits_.size(-1));
  const Tensor u = torch::rand(shape, logits_.options()).clamp_min(detail::epsilon(logits_));
  return (logits_ - (-u.log()).log()).argmax(-1).to(logits_.scalar_type());
}

Tensor Categorical::mean() const { return logits_.exp(); }

/// H = -sum_c p_c log p_c (0 log 0 = 0).
Tensor Categorical::entropy_elements() const {
  const double lowest = logits_.scalar_type() == torch::kDouble ? std::numeric_limits<double>::lowest()
                                                                : std::numeric_limits<float>::lowest();
  return -(logits_.exp() * logits_.clamp_min(lowest)).sum(-1);
}

std::vector<int64_t> Categorical::sample_shape() const {
  auto shape = logits_.sizes().vec();
  shape.pop_back();
  return shape;
}

}  // namespace elbo::dist
