#include "elbo/model/brnn.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/dist/normal.h"
#include "elbo/model/weight_site.h"

namespace elbo::model {

BrnnOptions BrnnOptions::from_config(const Config& c, const data::Schema& schema) {
  BrnnOptions o;
  o.window = c.get_int("data.window");
  ELBO_CHECK(schema.features() % o.window == 0, "model.type = \"brnn\": ", schema.features(),
             " features per example are not windows of data.window = ", o.window, " steps (data.format = \"series\")");
  o.channels = schema.features() / o.window;
  const auto& hidden = c.get_ints("model.hidden");
  ELBO_CHECK(hidden.size() == 1, "model.type = \"brnn\": model.hidden must give one size, the GRU state (got ",
             hidden.size(), " sizes)");
  o.hidden = hidden[0];
  const double windows = static_cast<double>(std::max<int64_t>(1, schema.examples));
  const double transitions = (windows - 1) * static_cast<double>(c.get_int("data.stride")) + static_cast<double>(o.window - 1);
  o.share = static_cast<double>(o.window - 1) / transitions;
  o.layers = nn::BayesianLayerOptions::from_config(c);
  return o;
}

BrnnImpl::BrnnImpl(const BrnnOptions& o) : options_(o) {
  ELBO_CHECK(o.window >= 2, "elbo::model::Brnn: a window needs at least 2 steps (got ", o.window, ")");
  ELBO_CHECK(o.channels >= 1 && o.hidden >= 1, "elbo::model::Brnn: channels and hidden must be >= 1");
  kl_share_ = register_buffer("kl_share", torch::tensor(o.share, torch::kDouble));
  cell_ = register_module("cell", nn::BayesianGruCell(o.channels, o.hidden, o.layers));
  head_ = register_module("head", nn::BayesianLinear(o.hidden, 2 * o.channels, o.layers));
}

std::vector<nn::GaussianWeights> BrnnImpl::weights() const {
  std::vector<nn::GaussianWeights> w = cell_->weights();
  for (auto& g : head_->weights()) w.push_back(g);
  return w;
}

std::pair<Tensor, Tensor> BrnnImpl::next(const Tensor& h, const nn::BayesianLinearImpl::Draw& head) const {
  const auto out = nn::BayesianLinearImpl::apply(h, head).chunk(2, -1);
  return {out[0], torch::softplus(out[1]) + 1e-3};
}

Trace BrnnImpl::forward(const Batch& batch, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::Brnn: particles must be >= 1 (got ", particles, ")");
  const int64_t c = options_.channels, w = options_.window;
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(1) == w * c,
             "elbo::model::Brnn: expected windows [B, ", w * c, "] (", w, " steps of ", c, " values), got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  ELBO_CHECK(!batch.mask.defined(), "elbo::model::Brnn: windows with missing values are not supported (data.fill)");
  const int64_t b = batch.x.size(0);
  const Tensor x = batch.x.view({1, b, w, c});
  nn::WeightCost drawn;  // the weights' log densities at the draws this pass uses
  const auto gru = cell_->sample(particles, &drawn);
  const auto head = head_->sample(particles, &drawn);
  Tensor h = torch::zeros({particles, b, options_.hidden}, batch.x.options());
  Tensor log_p = torch::zeros({particles, b}, batch.x.options());
  for (int64_t t = 0; t + 1 < w; ++t) {
    h = cell_->forward(x.select(2, t).expand({particles, b, c}), h, gru);
    const auto [mean, scale] = next(h, head);
    log_p = log_p + dist::Normal(mean, scale.log()).log_prob_elements(x.select(2, t + 1).expand_as(mean)).sum(-1);
  }
  Site obs;
  obs.name = "x";
  obs.kind = SiteKind::observed;
  obs.value = batch.x;
  obs.log_p = log_p;
  Trace trace;
  trace.sites.push_back(weight_site("w", weights(), options_.layers.prior, kl_share_.item<double>(), drawn));
  trace.sites.push_back(std::move(obs));
  return trace;
}

Tensor BrnnImpl::forecast(const Tensor& context, int64_t horizon, int64_t draws) {
  ELBO_CHECK(horizon >= 1, "elbo::model::Brnn: the horizon must be >= 1 (got ", horizon, ")");
  ELBO_CHECK(draws >= 1, "elbo::model::Brnn: draws must be >= 1 (got ", draws, ")");
  ELBO_CHECK(context.dim() == 2 && context.size(1) == options_.channels && context.size(0) >= 1,
             "elbo::model::Brnn: expected a context [T, ", options_.channels, "], got ", context.sizes());
  const auto gru = cell_->sample(draws);
  const auto head = head_->sample(draws);
  const int64_t c = options_.channels;
  Tensor h = torch::zeros({draws, 1, options_.hidden}, context.options());
  for (int64_t t = 0; t < context.size(0); ++t) h = cell_->forward(context[t].view({1, 1, c}).expand({draws, 1, c}), h, gru);
  std::vector<Tensor> path;
  for (int64_t t = 0; t < horizon; ++t) {
    const auto [mean, scale] = next(h, head);
    path.push_back(mean + scale * torch::randn_like(mean));  // [S, 1, C]
    if (t + 1 < horizon) h = cell_->forward(path.back(), h, gru);
  }
  return torch::cat(path, 1);  // [S, H, C]
}

std::string BrnnImpl::describe() const {
  const BrnnOptions& o = options_;
  return "Bayesian GRU forecaster: " + std::to_string(o.hidden) + " hidden units, windows of " + std::to_string(o.window) +
         " steps of " + std::to_string(o.channels) + " series";
}

}  // namespace elbo::model
