#include "elbo/model/bnn.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/dist/normal.h"
#include "elbo/model/weight_site.h"

#include <cmath>
#include <sstream>

namespace elbo::model {

namespace {

/// Columns a data.target_columns spec names: one per name or index, b - a + 1 per range "a-b"
/// (a run loaded back has no table to resolve it against; training checked it).
int64_t columns_named(const std::string& spec) {
  int64_t n = 0;
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    const auto dash = item.find('-');
    const bool range = dash != std::string::npos && dash > 0 && item.find_first_not_of("0123456789- ") == std::string::npos;
    if (range) n += std::stoll(item.substr(dash + 1)) - std::stoll(item.substr(0, dash)) + 1;
    else n += item.find_first_not_of(' ') != std::string::npos;
  }
  return n;
}

}  // namespace

BnnOptions BnnOptions::from_config(const Config& c, const data::Schema& schema) {
  BnnOptions o;
  o.classification = c.get_string("model.task") == "classification";
  o.features = schema.features();
  if (o.classification) {
    o.outputs = std::max(schema.classes(), c.get_int("model.classes"));  // a run loaded back has no labels to count
  } else {
    o.outputs = schema.targets() > 0 ? schema.targets() : columns_named(c.get_string("data.target_columns"));
    ELBO_CHECK(o.outputs >= 1, "model.type = \"bnn\" with model.task = \"regression\" needs float targets: name their "
               "CSV columns in data.target_columns");
  }
  o.examples = std::max<int64_t>(1, schema.examples);
  o.hidden = c.get_ints("model.hidden");
  if (c.get_string("model.encoder") == "conv") o.channels = c.get_ints("model.channels");
  o.image = schema.image;
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.layers = nn::BayesianLayerOptions::from_config(c);
  o.noise_scale = c.get_double("model.scale");
  o.student_df = c.get_double("model.student_df");
  o.draws = c.get_int("eval.draws");
  return o;
}

BnnImpl::BnnImpl(const BnnOptions& o) : options_(o) {
  ELBO_CHECK(o.features >= 1 && o.outputs >= 1, "elbo::model::Bnn: features and outputs must be >= 1 (got ", o.features,
             ", ", o.outputs, ")");
  ELBO_CHECK(o.draws >= 1, "elbo::model::Bnn: draws must be >= 1 (got ", o.draws, ")");
  ELBO_CHECK(o.student_df >= 0, "elbo::model::Bnn: student_df must be >= 0 (got ", o.student_df, ")");
  int64_t in = o.features;
  if (!o.channels.empty()) {
    ELBO_CHECK(o.image.is_image() && o.image.features() == o.features, "model.type = \"bnn\" with model.encoder = "
               "\"conv\" needs image data; this data set has ", o.features, " features",
               o.image.is_image() ? " that do not match its image shape " + o.image.str() : std::string(" and no image shape"),
               "; use model.encoder = \"mlp\"");
    int64_t channels = o.image.channels, height = o.image.height, width = o.image.width;
    for (size_t i = 0; i < o.channels.size(); ++i) {
      ELBO_CHECK(height >= 2 && width >= 2, "model.channels: ", o.channels.size(), " stride-2 convolutions shrink the ",
                 o.image.str(), " images below 2x2 at layer ", i + 1);
      convs_.push_back(register_module("conv" + std::to_string(i), nn::BayesianConv2d(channels, o.channels[i], 4, 2, 1, o.layers)));
      channels = o.channels[i], height /= 2, width /= 2;
    }
    in = channels * height * width;
  }
  std::vector<int64_t> sizes = o.hidden;
  sizes.push_back(o.outputs);
  for (size_t i = 0; i < sizes.size(); ++i) {
    layers_.push_back(register_module("layer" + std::to_string(i), nn::BayesianLinear(in, sizes[i], o.layers)));
    in = sizes[i];
  }
  if (!o.classification)
    noise_rho_ = register_parameter("noise_rho", torch::full({o.outputs}, nn::rho_of_scale(o.noise_scale)));
  kl_share_ = register_buffer("kl_share", torch::tensor(1.0 / static_cast<double>(o.examples), torch::kDouble));
}

void BnnImpl::set_draws(int64_t draws) {
  ELBO_CHECK(draws >= 1, "elbo::model::Bnn: draws must be >= 1 (got ", draws, ")");
  options_.draws = draws;
}

std::vector<nn::GaussianWeights> BnnImpl::weights() const {
  std::vector<nn::GaussianWeights> w;
  for (const auto& conv : convs_)
    for (auto& g : conv->weights()) w.push_back(g);
  for (const auto& layer : layers_)
    for (auto& g : layer->weights()) w.push_back(g);
  return w;
}

Tensor BnnImpl::noise_scale() const {
  ELBO_CHECK(!options_.classification, "elbo::model::Bnn: a classifier has no noise scale");
  return torch::softplus(noise_rho_) + 1e-6;
}

Tensor BnnImpl::log_likelihood(const Tensor& target, const Tensor& output) const {
  const Tensor s = noise_scale().to(output.scalar_type());
  const Tensor t = target.to(output.scalar_type()).expand_as(output);
  const double nu = options_.student_df;
  if (nu <= 0) return dist::Normal(output, s.log().expand_as(output)).log_prob_elements(t);
  const Tensor z = (t - output) / s;
  const double constant = std::lgamma(0.5 * (nu + 1)) - std::lgamma(0.5 * nu) - 0.5 * std::log(nu * M_PI);
  return constant - s.log() - 0.5 * (nu + 1) * torch::log1p(z.square() / nu);
}

Tensor BnnImpl::sample_noise(const Tensor& output) const {
  const Tensor s = noise_scale().to(output.scalar_type());
  Tensor e = torch::randn_like(output);
  if (const double nu = options_.student_df; nu > 0)  // N(0, 1) / sqrt(chi2_nu / nu), chi2_nu = 2 Gamma(nu / 2)
    e = e / (2 * torch::_standard_gamma(torch::full_like(output, 0.5 * nu)) / nu).sqrt();
  return output + s * e;
}

Tensor BnnImpl::outputs(const Tensor& x, int64_t draws, nn::WeightCost* cost) {
  ELBO_CHECK(x.dim() == 2 && x.size(1) == options_.features, "elbo::model::Bnn: expected inputs [B, ", options_.features,
             "], got ", x.sizes());
  Tensor h = x.unsqueeze(0).expand({draws, x.size(0), x.size(1)});
  if (!convs_.empty()) {
    const ImageShape& image = options_.image;
    h = h.reshape({draws, x.size(0), image.channels, image.height, image.width});
    for (auto& conv : convs_) h = nn::activate(conv->forward(h, cost), options_.activation);
    h = h.flatten(2);  // [draws, B, C H W]
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h, cost);
    if (i + 1 < layers_.size()) h = nn::activate(h, options_.activation);
  }
  return h;
}

Tensor BnnImpl::classify(const Batch& batch) {
  ELBO_CHECK(options_.classification, "elbo::model::Bnn: a regression network has no classifier");
  const Tensor log_p = torch::log_softmax(outputs(encoder_input(batch), options_.draws), -1);  // [S, B, C]
  return torch::logsumexp(log_p, 0) - std::log(static_cast<double>(options_.draws));
}

Trace BnnImpl::forward(const Batch& batch, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::Bnn: particles must be >= 1 (got ", particles, ")");
  nn::WeightCost drawn;
  const Tensor out = outputs(encoder_input(batch), particles, &drawn);  // [K, B, O]
  Site obs;
  obs.kind = SiteKind::observed;
  obs.event_dims = 0;
  if (options_.classification) {
    ELBO_CHECK(batch.y.defined(), "elbo::model::Bnn: the batch has no labels (IDX: data.train_labels, CSV: "
               "data.label_column)");
    const Tensor y = batch.y.to(out.device());
    ELBO_CHECK(y.numel() == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < options_.outputs),
               "elbo::model::Bnn: labels must be in 0..", options_.outputs - 1);
    obs.name = "y";
    obs.value = y;
    obs.log_p = torch::log_softmax(out, -1).gather(2, y.view({1, -1, 1}).expand({out.size(0), -1, 1})).squeeze(2);
    if (batch.y_mask.defined()) {
      obs.mask = batch.y_mask.to(out.device());
      obs.log_p = torch::where(obs.mask > 0, obs.log_p, torch::zeros_like(obs.log_p));
    }
  } else {
    ELBO_CHECK(batch.target.defined() && batch.target.dim() == 2 && batch.target.size(1) == options_.outputs,
               "elbo::model::Bnn: expected targets [B, ", options_.outputs, "], got ",
               batch.target.defined() ? batch.target.sizes() : c10::IntArrayRef{});
    obs.name = "target";
    obs.value = batch.target;
    obs.log_p = log_likelihood(batch.target.to(out.device()), out).sum(-1);
  }
  Trace trace;
  trace.sites.push_back(weight_site("w", weights(), options_.layers.prior, kl_share_.item<double>(), drawn));
  trace.sites.push_back(std::move(obs));
  return trace;
}

std::string BnnImpl::describe() const {
  const BnnOptions& o = options_;
  return std::string("Bayesian neural net (Blundell et al. 2015): ") + (o.classification ? "classification over " : "regression of ") +
         std::to_string(o.outputs) + (o.classification ? " classes" : " targets") +
         (o.channels.empty() ? "" : ", Bayesian 4x4 stride-2 convolutions " + widths_text(o.channels)) + ", hidden " + widths_text(o.hidden) +
         ", weights q(w) = N(m, softplus(rho)^2)" + (o.student_df > 0 ? ", Student-t noise" : "");
}

}  // namespace elbo::model
