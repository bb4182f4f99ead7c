#include "elbo/model/bayesian_linear_regression.h"

#include "elbo/core/check.h"
#include "elbo/dist/kl.h"

#include <cmath>

namespace elbo::model {

BayesianLinearRegressionImpl::BayesianLinearRegressionImpl(const BayesianLinearRegressionOptions& o) : options_(o) {
  ELBO_CHECK(o.features >= 1, "elbo::model::BayesianLinearRegression: features must be >= 1 (got ", o.features, ")");
  ELBO_CHECK(o.examples >= 1, "elbo::model::BayesianLinearRegression: examples must be >= 1 (got ", o.examples, ")");
  ELBO_CHECK(o.prior_scale > 0 && o.noise_scale > 0 && o.initial_scale > 0,
             "elbo::model::BayesianLinearRegression: prior_scale, noise_scale and initial_scale must be positive (got ",
             o.prior_scale, ", ", o.noise_scale, ", ", o.initial_scale, ")");
  loc_ = register_parameter("loc", torch::zeros({o.features}));
  log_scale_ = register_parameter("log_scale", torch::full({o.features}, std::log(o.initial_scale)));
}

dist::Normal BayesianLinearRegressionImpl::predictive(const Tensor& x, const Tensor& w) const {
  return dist::Normal::with_scale(torch::matmul(w, x.transpose(0, 1)), options_.noise_scale);  // [K, B]
}

Trace BayesianLinearRegressionImpl::forward(const Batch& batch, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::BayesianLinearRegression: particles must be >= 1 (got ", particles, ")");
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(1) == options_.features,
             "elbo::model::BayesianLinearRegression: expected inputs [B, ", options_.features, "], got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  ELBO_CHECK(batch.target.defined() && batch.target.dim() == 2 && batch.target.size(1) == 1 &&
                 batch.target.size(0) == batch.x.size(0),
             "elbo::model::BayesianLinearRegression: expected one float target per example [", batch.x.size(0),
             ", 1], got ", batch.target.defined() ? batch.target.sizes() : c10::IntArrayRef{});
  const auto q = std::make_shared<dist::Normal>(weights());
  const dist::Normal prior = dist::Normal::with_scale(torch::zeros_like(loc_), options_.prior_scale);
  Site w;
  w.name = "w";
  w.kind = SiteKind::global;
  // Global noise: every data-parallel rank draws the same weights (rsample's randn_batch would
  // read axis -2 as a batch and split it across ranks).
  w.value = q->loc() + q->scale() * torch::randn({particles, options_.features}, loc_.options());  // [K, P]
  w.log_q = q->log_prob(w.value).unsqueeze(-1);         // [K, 1]
  w.log_p = prior.log_prob(w.value).unsqueeze(-1);      // [K, 1]
  w.kl = dist::kl_elements(*q, prior).sum();            // closed form
  w.q = q;
  w.q_mean = q->mean();
  w.share = 1.0 / static_cast<double>(options_.examples);
  Site t;
  t.name = "target";
  t.kind = SiteKind::observed;
  t.value = batch.target;
  t.event_dims = 0;
  t.log_p = predictive(batch.x, w.value).log_prob_elements(batch.target.squeeze(-1));  // [K, B]
  Trace trace;
  trace.sites.push_back(std::move(w));
  trace.sites.push_back(std::move(t));
  return trace;
}

std::string BayesianLinearRegressionImpl::describe() const {
  return "Bayesian linear regression: " + std::to_string(options_.features) + " features, global weights w";
}

}  // namespace elbo::model
