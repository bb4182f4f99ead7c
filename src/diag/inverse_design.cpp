#include "elbo/diag/inverse_design.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"

#include <torch/optim/adam.h>

#include <cmath>

namespace elbo::diag {
namespace {

/// log N(z; 0, sd^2 I) [n] for z [n, D].
Tensor log_prior(const Tensor& z, double sd) {
  return (-0.5 * (z / sd).square() - std::log(sd) - 0.5 * kLog2Pi).sum(-1);
}

}  // namespace

Tensor design_objective(const PropertyHead& head, const Tensor& z, const DesignOptions& o) {
  ELBO_CHECK(o.prior_sd > 0 && std::isfinite(o.prior_sd), "diag::design_objective: prior_sd must be positive (got ",
             o.prior_sd, ")");
  ELBO_CHECK(o.maximize || std::isfinite(o.target), "diag::design_objective: the target must be finite (got ", o.target,
             ")");
  const Tensor property = o.maximize ? head.predict(z) / head.noise_sd : head.log_prob(z, o.target);
  return property + log_prior(z, o.prior_sd);
}

Design design_codes(const PropertyHead& head, const Tensor& start, const DesignOptions& o) {
  constexpr const char* fn = "diag::design_codes";
  ELBO_CHECK(head.net, fn, ": the head is not fitted");
  const int64_t d = head.net->options().in();
  ELBO_CHECK(start.dim() == 2 && start.size(1) == d && start.size(0) >= 1, fn, ": start codes must be [n, ", d,
             "] (got ", start.sizes(), ")");
  ELBO_CHECK(o.steps >= 0, fn, ": steps must be >= 0 (got ", o.steps, ")");
  ELBO_CHECK(o.lr > 0 && std::isfinite(o.lr), fn, ": lr must be positive (got ", o.lr, ")");
  ELBO_CHECK(!o.free.defined() || (o.free.dim() == 1 && o.free.size(0) == d), fn, ": free must be [", d, "] (got ",
             o.free.defined() ? o.free.sizes() : c10::IntArrayRef{}, ")");
  const Tensor free = o.free.defined() ? (o.free != 0).to(torch::kFloat) : Tensor();
  torch::AutoGradMode grad(true);
  Design out;
  out.start = start.detach().to(torch::kFloat).clone();
  Tensor z = out.start.clone().requires_grad_(true);
  torch::optim::Adam adam({z}, torch::optim::AdamOptions(o.lr));
  std::vector<Tensor> objective, predicted;
  for (int64_t step = 0;; ++step) {
    adam.zero_grad();
    const Tensor j = design_objective(head, z, o);
    objective.push_back(j.detach().to(torch::kDouble));
    {
      torch::NoGradGuard no_grad;
      predicted.push_back(head.predict(z).to(torch::kDouble));
    }
    ELBO_CHECK_NUMERIC(torch::isfinite(objective.back()).all().item<bool>(), fn, ": the objective is not finite at step ",
                       step);
    if (step == o.steps) break;
    (-j.sum()).backward();
    if (free.defined()) z.mutable_grad().mul_(free);
    adam.step();
  }
  out.codes = z.detach();
  out.objective = torch::stack(objective);
  out.predicted = torch::stack(predicted);
  return out;
}

}  // namespace elbo::diag
