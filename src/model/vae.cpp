#include "elbo/model/vae.h"

#include "elbo/core/check.h"
#include "elbo/dist/prior.h"
#include "elbo/nn/conv.h"
#include "elbo/nn/mlp.h"
#include "elbo/nn/mlp_bernoulli_log_prob.h"
#include "elbo/nn/sequence_conv.h"

#include <algorithm>
#include <cmath>

namespace elbo::model {

VaeOptions VaeOptions::from_config(const Config& c, int64_t features, const ImageShape& image) {
  VaeOptions o;
  o.features = features;
  o.image = image;
  o.latent_dim = c.get_int("model.latent_dim");
  o.encoder = c.get_string("model.encoder");
  o.decoder = c.get_string("model.decoder");
  o.hidden = c.get_ints("model.hidden");
  o.encoder_hidden = c.get_ints("model.encoder_hidden");
  o.channels = c.get_ints("model.channels");
  o.kernel = c.get_int("model.kernel");
  o.padding = c.get_string("model.padding");
  o.context = c.get_int("model.context");
  o.context_hidden = c.get_int("model.context_hidden");
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.likelihood = c.get_string("model.likelihood");
  o.likelihood_scale = c.get_string("model.likelihood_scale");
  o.scale = c.get_double("model.scale");
  o.categories = c.get_int("model.categories");
  o.prior = c.get_string("model.prior");
  o.prior_scale = c.get_double("model.prior_scale");
  o.decoder_init_scale = c.get_double("model.decoder_init_scale");
  o.encoder_mask = c.get_bool("model.encoder_mask");
  o.classes = c.get_bool("model.conditional") ? c.get_int("model.classes") : 0;
  return o;
}

VaeImpl::VaeImpl(const VaeOptions& o) : options_(o) {
  ELBO_CHECK(o.features > 0 && o.latent_dim > 0, "elbo::model::Vae: features and latent_dim must be positive (got ",
             o.features, ", ", o.latent_dim, ")");
  ELBO_CHECK(o.classes >= 0, "elbo::model::Vae: classes must be >= 0 (got ", o.classes, ")");
  ELBO_CHECK(o.classes == 0 || o.encoder == "mlp", "model.conditional = true needs model.encoder = \"mlp\" (got \"",
             o.encoder, "\")");
  prior_log_scale_ = register_buffer("prior_log_scale", dist::make_prior(o.prior, o.latent_dim, o.prior_scale).log_scale());
  likelihood_ = register_module(
      "likelihood", nn::Likelihood(nn::LikelihoodOptions(o.likelihood, o.features)
                                       .scale_mode(o.likelihood_scale)
                                       .scale(o.scale)
                                       .categories(o.categories)));
  const bool categorical = o.likelihood == "categorical";
  ELBO_CHECK(!(categorical && o.encoder_mask), "model.encoder_mask: with a categorical likelihood the encoder reads "
             "one-hot symbols, where an unobserved position is already all zeros; remove model.encoder_mask");
  ELBO_CHECK(o.context == 0 || categorical, "model.context = ", o.context, " (an autoregressive decoder) needs "
             "model.likelihood = \"categorical\" (got \"", o.likelihood, "\")");
  // Per position: input channels of the encoder, values the decoder emits.
  const int64_t symbols = (categorical ? o.categories : 1) * (o.encoder_mask ? 2 : 1);
  ELBO_CHECK(o.context == 0 || !o.channels.empty(), "model.context > 0 needs model.channels (its first entry is the "
             "width of the decoder's features per position)");
  const int64_t emitted = o.context > 0 ? o.channels.front() : likelihood_->params_per_feature();
  if (o.context > 0)
    autoregressive_ = register_module("autoregressive", nn::AutoregressiveSequence(o.categories, emitted, o.context_hidden,
                                                                                   o.context, o.activation));

  auto needs_image = [&](const std::string& which) {
    ELBO_CHECK(o.image.is_image() && o.image.features() == o.features, "model.", which,
               " = \"conv\" needs image data; this data set has ", o.features, " features",
               o.image.is_image() ? " that do not match its image shape " + o.image.str() : std::string(" and no image shape"),
               "; use model.", which, " = \"mlp\" (or \"conv1d\" for sequences)");
  };
  auto sequence = [&](int64_t channels, int64_t features) {
    return nn::SequenceConvOptions(o.features, channels, features).channels(o.channels).kernel(o.kernel).activation(o.activation);
  };
  const nn::Padding padding = nn::parse_padding(o.padding);
  ELBO_CHECK(padding == nn::Padding::zeros || o.encoder == "conv" || o.decoder == "conv", "model.padding = \"",
             o.padding, "\" applies to the image conv networks; set model.encoder or model.decoder = \"conv\" (got \"",
             o.encoder, "\" and \"", o.decoder, "\")");
  if (o.encoder == "conv") {
    needs_image("encoder");
    const ImageShape input{o.image.channels * (o.encoder_mask ? 2 : 1), o.image.height, o.image.width};
    encoder_ = torch::nn::AnyModule(nn::ConvEncoder(
        nn::ConvOptions(input, 2 * o.latent_dim).channels(o.channels).activation(o.activation).padding(padding)));
  } else if (o.encoder == "conv1d") {
    ELBO_CHECK(o.classes == 0, "model.conditional = true needs model.encoder = \"mlp\" (got \"conv1d\")");
    encoder_ = torch::nn::AnyModule(nn::SequenceEncoder(sequence(symbols, 2 * o.latent_dim)));
  } else {
    ELBO_CHECK(o.encoder == "mlp", "model.encoder '", o.encoder, "' is not one of: mlp, conv, conv1d");
    const auto& widths = o.encoder_hidden.empty() ? o.hidden : o.encoder_hidden;
    encoder_ = torch::nn::AnyModule(
        nn::Mlp(nn::MlpOptions(o.features * symbols + o.classes, 2 * o.latent_dim).hidden(widths).activation(o.activation)));
  }
  if (o.decoder == "conv") {
    needs_image("decoder");
    ELBO_CHECK(!categorical, "model.decoder = \"conv\" does not support the categorical likelihood; use \"conv1d\"");
    decoder_ = torch::nn::AnyModule(nn::ConvDecoder(nn::ConvOptions(o.image, o.latent_dim + o.classes)
                                                        .channels(o.channels)
                                                        .activation(o.activation)
                                                        .params_per_pixel(emitted)
                                                        .output_init_scale(o.decoder_init_scale)
                                                        .padding(padding)));
  } else if (o.decoder == "conv1d") {
    decoder_ = torch::nn::AnyModule(
        nn::SequenceDecoder(sequence(emitted, o.latent_dim + o.classes).output_init_scale(o.decoder_init_scale)));
  } else {
    ELBO_CHECK(o.decoder == "mlp", "model.decoder '", o.decoder, "' is not one of: mlp, conv, conv1d");
    std::vector<int64_t> hidden(o.hidden.rbegin(), o.hidden.rend());
    decoder_ = torch::nn::AnyModule(nn::Mlp(nn::MlpOptions(o.latent_dim + o.classes, o.features * emitted)
                                                .hidden(hidden)
                                                .activation(o.activation)
                                                .output_init_scale(o.decoder_init_scale)));
  }
  register_module("encoder", encoder_.ptr());
  register_module("decoder", decoder_.ptr());
}

dist::Normal VaeImpl::prior() const {
  return dist::Normal(torch::zeros_like(prior_log_scale_), prior_log_scale_);
}

dist::DistributionPtr VaeImpl::posterior(const Batch& batch) {
  ELBO_CHECK(batch.x.dim() == 2 && batch.x.size(1) == options_.features, "elbo::model::Vae: expected data [B, ",
             options_.features, "], got ", batch.x.sizes());
  return std::make_shared<dist::Normal>(
      dist::posterior_from_raw(encoder_.forward(with_label(encoder_features(batch), batch.y))));
}

dist::DistributionPtr VaeImpl::likelihood(const Tensor& z) { return likelihood(z, Tensor()); }

dist::DistributionPtr VaeImpl::likelihood(const Tensor& z, const Tensor& y) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.latent_dim, "elbo::model::Vae: expected codes [..., ",
             options_.latent_dim, "], got ", z.sizes());
  Tensor labels = y;
  if (options_.classes > 0 && !labels.defined())  // unlabelled codes: labels cycle through the classes
    labels = torch::arange(z.numel() / options_.latent_dim, z.options().dtype(torch::kLong))
                 .remainder(options_.classes)
                 .view(z.sizes().slice(0, z.dim() - 1));
  const Tensor raw = decoder_.forward(with_label(z, labels));
  if (!autoregressive_) return likelihood_->forward(raw);
  auto shape = raw.sizes().vec();
  shape.back() = options_.features;
  shape.push_back(autoregressive_->features());
  return std::make_shared<nn::AutoregressiveCategorical>(autoregressive_, raw.view(shape));
}

Tensor VaeImpl::encoder_features(const Batch& batch) const {
  if (options_.likelihood != "categorical") return encoder_input(batch, options_.encoder_mask);
  const Tensor x = encoder_input(batch);  // unobserved entries 0, whatever they hold
  ELBO_CHECK(x.numel() == 0 || (x.min().item<double>() >= 0 && x.max().item<double>() < options_.categories),
             "elbo::model::Vae: categorical data must hold class indices 0..", options_.categories - 1);
  Tensor onehot = torch::one_hot(x.to(torch::kLong), options_.categories).to(x.options());  // [B, L, C]
  if (batch.mask.defined()) onehot = onehot * batch.mask.to(x.options()).unsqueeze(-1);
  return onehot.transpose(1, 2).flatten(1);
}

void VaeImpl::require_labels(const Tensor& y) const {
  ELBO_CHECK(y.defined(), "elbo::model::Vae: model.conditional = true needs labels, and this batch has none "
             "(IDX: data.train_labels / data.test_labels; CSV: data.label_column)");
}

Tensor VaeImpl::with_label(const Tensor& v, const Tensor& y) const {
  if (options_.classes == 0) return v;
  require_labels(y);
  ELBO_CHECK(y.scalar_type() == torch::kLong, "elbo::model::Vae: labels must be int64, got ", y.scalar_type());
  Tensor labels = y.to(v.device());
  if (labels.numel() > 0) {
    const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    ELBO_CHECK(lo >= 0 && hi < options_.classes, "elbo::model::Vae: label ", lo < 0 ? lo : hi, " is outside 0..",
               options_.classes - 1, " (model.classes = ", options_.classes, ")");
  }
  std::vector<int64_t> shape = v.sizes().vec();
  shape.back() = options_.classes;
  Tensor onehot = torch::one_hot(labels, options_.classes).to(v.scalar_type()).expand(shape);
  return torch::cat({v, onehot}, -1);
}

Tensor VaeImpl::sample_prior(int64_t n) {
  ELBO_CHECK(n > 0, "elbo::model::Vae: sample count must be positive (got ", n, ")");
  return prior().sample(n);
}

Trace VaeImpl::forward(const Batch& batch, int64_t particles) { return forward_with(batch, posterior(batch), particles); }

Trace VaeImpl::forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::Vae: particles must be >= 1 (got ", particles, ")");
  ELBO_CHECK(q && q->has_rsample(), "elbo::model::Vae: an external posterior must be reparameterizable (got ",
             q ? q->name() : std::string("none"), ")");
  const auto shape = q->sample_shape();
  ELBO_CHECK(batch.x.dim() == 2 && shape.size() == 2 && shape[0] == batch.x.size(0) && shape[1] == options_.latent_dim,
             "elbo::model::Vae: an external posterior must be [B, ", options_.latent_dim, "] for data ",
             batch.x.sizes(), ", got ", c10::IntArrayRef(shape));
  Trace trace;
  trace.sites.push_back(sample_latent("z", q, prior(), particles));
  const Tensor& z = trace.sites.back().value;
  // Without gradients a ReLU MLP with a Bernoulli likelihood decodes in fused blocks (evaluation, IWAE).
  if (options_.decoder == "mlp" && options_.likelihood == "bernoulli" && options_.classes == 0 && !batch.mask.defined()) {
    Tensor log_px = nn::mlp_bernoulli_log_prob(*decoder_.ptr<nn::MlpImpl>(), z, batch.x);
    if (log_px.defined()) {
      Site x;
      x.name = "x";
      x.kind = SiteKind::observed;
      x.value = batch.x;
      x.log_p = log_px;
      trace.sites.push_back(std::move(x));
      return trace;
    }
  }
  // A conditional model decodes with the batch's labels (likelihood(z) would cycle through the classes).
  if (options_.classes > 0) require_labels(batch.y);
  trace.sites.push_back(observe("x", *likelihood(z, batch.y), batch.x, batch.mask));
  return trace;
}

std::string VaeImpl::describe() const {
  const VaeOptions& o = options_;
  return "VAE: " + o.encoder + " encoder, " + o.decoder + " decoder" +
         (o.encoder == "mlp" ? " (hidden " + widths_text(o.hidden) + ")" : "") + ", " + o.likelihood + " likelihood" +
         (o.context > 0 ? " (autoregressive, " + std::to_string(o.context) + " symbols of context)" : "") + ", " +
         Model::describe() + (o.prior != "normal" ? ", " + o.prior + " prior" : "");
}

}  // namespace elbo::model
