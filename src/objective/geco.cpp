#include "elbo/objective/geco.h"

#include "elbo/core/check.h"

#include <algorithm>
#include <cmath>

namespace elbo::objective {

Geco::Geco(const GecoOptions& o)
    : options_(o), lambda_(o.initial()) {
  ELBO_CHECK(o.alpha() >= 0 && o.alpha() < 1, "objective.geco_alpha must be in [0, 1) (got ", o.alpha(), ")");
  ELBO_CHECK(o.rate() > 0, "objective.geco_rate must be > 0 (got ", o.rate(), ")");
  ELBO_CHECK(o.min() > 0 && o.min() <= o.initial() && o.initial() <= o.max(),
             "GECO needs 0 < objective.geco_min <= objective.geco_initial <= objective.geco_max (got ", o.min(), ", ",
             o.initial(), ", ", o.max(), ")");
}

Value Geco::operator()(const model::Trace& trace, int64_t) const {
  Value v = beta_elbo(trace, 1.0 / lambda_, options_.analytic_kl());
  v.metrics = {{"geco_lambda", torch::scalar_tensor(lambda_, torch::kDouble)},
               {"geco_constraint_ma", torch::scalar_tensor(constraint_ma_, torch::kDouble)}};
  return v;
}

void Geco::after_step(const Value& value, int64_t) {
  const double constraint = -value.reconstruction.mean().item<double>() - options_.target();
  constraint_ma_ = updates_ == 0 ? constraint : options_.alpha() * constraint_ma_ + (1 - options_.alpha()) * constraint;
  lambda_ = std::clamp(lambda_ * std::exp(options_.rate() * constraint_ma_), options_.min(), options_.max());
  ++updates_;
}

State Geco::state() const {
  return {{"geco_lambda", lambda_}, {"geco_constraint_ma", constraint_ma_}, {"geco_updates", double(updates_)}};
}

void Geco::load_state(const State& state) {
  for (const auto& [name, value] : state) {
    if (name == "geco_lambda") lambda_ = value;
    else if (name == "geco_constraint_ma") constraint_ma_ = value;
    else if (name == "geco_updates") updates_ = static_cast<int64_t>(value);
  }
}

}  // namespace elbo::objective
