#include "elbo/model/model.h"

#include "elbo/core/check.h"
#include "elbo/dist/kl.h"

namespace elbo::model {

Site sample_latent(std::string name, const dist::DistributionPtr& q, const dist::Distribution& p, int64_t particles) {
  Site s;
  s.name = std::move(name);
  s.kind = SiteKind::latent;
  s.value = q->rsample(particles);
  s.log_q = q->log_prob(s.value);
  s.log_p = p.log_prob(s.value);
  if (dist::has_analytic_kl(*q, p)) s.kl = dist::kl_elements(*q, p).unsqueeze(0);
  s.q_mean = q->mean();
  s.q = q;
  return s;
}

Site observe(std::string name, const dist::Distribution& p, const Tensor& x, const Tensor& mask) {
  Site s;
  s.name = std::move(name);
  s.kind = SiteKind::observed;
  s.value = x;
  s.mask = mask;
  s.log_p = p.log_prob(x, mask);
  return s;
}

Tensor encoder_input(const Batch& batch, bool with_mask) {
  const Tensor& x = batch.x;
  const Tensor mask = batch.mask.defined() ? batch.mask.to(x.options()) : Tensor();
  const Tensor observed = mask.defined() ? torch::where(mask > 0, x, torch::zeros_like(x)) : x;
  if (!with_mask) return observed;
  return torch::cat({observed, mask.defined() ? mask : torch::ones_like(x)}, -1);
}

dist::DistributionPtr Model::posterior(const Batch&) {
  ELBO_CHECK(false, name(), " has no per-example latent code (posterior)");
  return nullptr;
}

Trace Model::forward_with(const Batch&, const dist::DistributionPtr&, int64_t) {
  ELBO_CHECK(false, name(), " does not support external posteriors (forward_with)");
  return {};
}

dist::DistributionPtr Model::likelihood(const Tensor&) {
  ELBO_CHECK(false, name(), " has no per-example latent code to decode (likelihood)");
  return nullptr;
}

Tensor Model::classify(const Batch&) {
  ELBO_CHECK(false, name(), " has no classifier q(y | x)");
  return {};
}

std::string Model::describe() const {
  std::string out = std::to_string(latent_dim()) + " latent dims";
  if (has_classifier()) out += ", classifier q(y|x) over " + std::to_string(classes()) + " classes";
  else if (classes() > 0) out += ", conditional on " + std::to_string(classes()) + " classes";
  return out;
}

std::string widths_text(const std::vector<int64_t>& widths) {
  std::string out;
  for (const int64_t w : widths) out += (out.empty() ? "" : "-") + std::to_string(w);
  return out.empty() ? "none" : out;
}

Tensor Model::sample_prior(int64_t) {
  ELBO_CHECK(false, name(), " has no per-example latent code to sample from its prior");
  return {};
}

}  // namespace elbo::model
