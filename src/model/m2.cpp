#include "elbo/model/m2.h"

#include "elbo/core/check.h"
#include "elbo/dist/kl.h"

#include <cmath>

namespace elbo::model {

M2Options M2Options::from_config(const Config& c, int64_t features, int64_t classes) {
  ELBO_CHECK(c.get_string("model.encoder") == "mlp" && c.get_string("model.decoder") == "mlp",
             "model.type = \"m2\" has MLP networks only; set model.encoder and model.decoder to \"mlp\"");
  ELBO_CHECK(c.get_string("model.prior") == "normal" && c.get_double("model.prior_scale") == 1.0,
             "model.type = \"m2\" has the prior N(0, I); leave model.prior = \"normal\" and model.prior_scale = 1");
  M2Options o;
  o.features = features;
  o.classes = classes;
  o.latent_dim = c.get_int("model.latent_dim");
  o.hidden = c.get_ints("model.hidden");
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.likelihood = c.get_string("model.likelihood");
  o.likelihood_scale = c.get_string("model.likelihood_scale");
  o.scale = c.get_double("model.scale");
  o.categories = c.get_int("model.categories");
  return o;
}

M2Impl::M2Impl(const M2Options& o) : options_(o) {
  ELBO_CHECK(o.features > 0 && o.latent_dim > 0, "elbo::model::M2: features and latent_dim must be positive (got ",
             o.features, ", ", o.latent_dim, ")");
  ELBO_CHECK(o.classes >= 2, "model.type = \"m2\" needs labelled data with at least 2 classes (got ", o.classes,
             "); IDX: data.train_labels, CSV: data.label_column");
  likelihood_ = register_module("likelihood", nn::Likelihood(nn::LikelihoodOptions(o.likelihood, o.features)
                                                                 .scale_mode(o.likelihood_scale)
                                                                 .scale(o.scale)
                                                                 .categories(o.categories)));
  auto mlp = [&](int64_t in, int64_t out, std::vector<int64_t> widths) {
    return nn::Mlp(nn::MlpOptions(in, out).hidden(std::move(widths)).activation(o.activation));
  };
  classifier_ = register_module("classifier", mlp(o.features, o.classes, o.hidden));
  encoder_ = register_module("encoder", mlp(o.features + o.classes, 2 * o.latent_dim, o.hidden));
  decoder_ = register_module("decoder", mlp(o.latent_dim + o.classes, likelihood_->raw_features(),
                                            std::vector<int64_t>(o.hidden.rbegin(), o.hidden.rend())));
}

Tensor M2Impl::input(const Batch& batch) const {
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(1) == options_.features,
             "elbo::model::M2: expected data [B, ", options_.features, "], got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  return encoder_input(batch);
}

std::pair<Tensor, Tensor> M2Impl::labels_where_known(const Batch& batch, const Tensor& fill) const {
  const int64_t b = fill.size(0), c = options_.classes;
  if (!batch.y.defined()) return {fill, torch::zeros({b}, fill.options().dtype(torch::kBool))};
  ELBO_CHECK(batch.y.dim() == 1 && batch.y.size(0) == b, "elbo::model::M2: expected labels [", b, "], got ",
             batch.y.sizes());
  const Tensor known = batch.y_mask.defined() ? batch.y_mask.to(fill.device()) > 0
                                              : torch::ones({b}, fill.options().dtype(torch::kBool));
  const Tensor labels = torch::where(known, batch.y.to(fill.device()), fill);
  if (known.any().item<bool>()) {
    const Tensor seen = labels.masked_select(known);
    const int64_t lo = seen.min().item<int64_t>(), hi = seen.max().item<int64_t>();
    ELBO_CHECK(lo >= 0 && hi < c, "elbo::model::M2: label ", lo < 0 ? lo : hi, " is outside 0..", c - 1,
               " (model.classes = ", c, ")");
  }
  return {labels, known};
}

Tensor M2Impl::with_label(const Tensor& v, const Tensor& y) const {
  std::vector<int64_t> shape = v.sizes().vec();
  shape.back() = options_.classes;
  return torch::cat({v, torch::one_hot(y.to(v.device()), options_.classes).to(v.scalar_type()).expand(shape)}, -1);
}

dist::Normal M2Impl::encode(const Tensor& x, const Tensor& y) {
  // The first layer on [x, onehot(y)] is W_x x + b + W_y[:, y]: x's product once per row however
  // many labels it is encoded with (every class, when y is enumerated).
  const torch::nn::Linear& first = encoder_->layers().front();
  const int64_t f = x.size(-1);
  std::vector<int64_t> shape = y.sizes().vec();
  shape.push_back(first->weight.size(0));
  const Tensor from_x = torch::addmm(first->bias, x.reshape({-1, f}), first->weight.narrow(1, 0, f).t());  // [B, H]
  const Tensor from_y = first->weight.narrow(1, f, options_.classes).t().index_select(0, y.to(x.device()).reshape(-1));
  return dist::posterior_from_raw(encoder_->forward_after_first(from_x + from_y.view(shape)));
}

Tensor M2Impl::classify(const Batch& batch) { return torch::log_softmax(classifier_->forward(input(batch)), -1); }

Trace M2Impl::forward(const Batch& batch, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::M2: particles must be >= 1 (got ", particles, ")");
  const Tensor x = input(batch);
  const int64_t b = x.size(0), c = options_.classes, k = particles, d = options_.latent_dim;
  const auto [labels, known] = labels_where_known(batch, torch::zeros({b}, x.options().dtype(torch::kLong)));
  const Tensor log_q_y = classify(batch).transpose(0, 1);  // [C, B]
  Site y;
  y.name = "y";
  y.kind = SiteKind::enumerated;
  y.value = labels;
  y.mask = known.to(x.scalar_type());
  y.log_q = log_q_y.unsqueeze(1);                                      // [C, 1, B]
  y.log_p = torch::full({c, 1, b}, -std::log(static_cast<double>(c)), x.options());
  const Tensor onehot = torch::one_hot(labels, c).to(x.scalar_type()).transpose(0, 1);  // [C, B]
  y.weight = torch::where(known.unsqueeze(0), onehot, log_q_y.exp());

  // q(z | x, y = c) for every class c: parameters [C, B, D], particles [C, K, B, D].
  const Tensor classes = torch::arange(c, x.options().dtype(torch::kLong)).unsqueeze(1).expand({c, b});
  const dist::Normal q_cb = encode(x, classes);
  const dist::Normal q(q_cb.loc().unsqueeze(1).expand({c, k, b, d}), q_cb.log_scale().unsqueeze(1).expand({c, k, b, d}));
  const dist::Normal prior(torch::zeros({d}, x.options()), torch::zeros({d}, x.options()));
  Site z;
  z.name = "z";
  z.kind = SiteKind::latent;
  z.value = q.rsample();
  z.log_q = q.log_prob(z.value);  // [C, K, B]
  z.log_p = prior.log_prob(z.value);
  z.kl = dist::kl_elements(q_cb, prior).unsqueeze(1);  // [C, 1, B, D]
  z.q_mean = (y.weight.unsqueeze(-1) * q_cb.loc()).sum(0);  // E_q[z] = sum_c q(c|x) mu(x, c), [B, D]
  const Tensor decoded = decoder_->forward(with_label(z.value, classes.unsqueeze(1).expand({c, k, b})));
  Trace trace;
  trace.sites.push_back(std::move(y));
  trace.sites.push_back(std::move(z));
  trace.sites.push_back(observe("x", *likelihood_->forward(decoded), batch.x, batch.mask));
  return trace;
}

dist::DistributionPtr M2Impl::posterior(const Batch& batch) {
  const Tensor x = input(batch);
  return std::make_shared<dist::Normal>(encode(x, labels_where_known(batch, classify(batch).argmax(-1)).first));
}

dist::DistributionPtr M2Impl::likelihood(const Tensor& z) { return likelihood(z, Tensor()); }

dist::DistributionPtr M2Impl::likelihood(const Tensor& z, const Tensor& y) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.latent_dim, "elbo::model::M2: expected codes [..., ",
             options_.latent_dim, "], got ", z.sizes());
  Tensor labels = y;
  if (!labels.defined())  // unlabelled codes: labels cycle through the classes
    labels = torch::arange(z.numel() / options_.latent_dim, z.options().dtype(torch::kLong))
                 .remainder(options_.classes)
                 .view(z.sizes().slice(0, z.dim() - 1));
  ELBO_CHECK(labels.scalar_type() == torch::kLong, "elbo::model::M2: labels must be int64, got ", labels.scalar_type());
  if (labels.numel() > 0) {
    const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    ELBO_CHECK(lo >= 0 && hi < options_.classes, "elbo::model::M2: label ", lo < 0 ? lo : hi, " is outside 0..",
               options_.classes - 1);
  }
  return likelihood_->forward(decoder_->forward(with_label(z, labels)));
}

Tensor M2Impl::sample_prior(int64_t n) {
  ELBO_CHECK(n > 0, "elbo::model::M2: sample count must be positive (got ", n, ")");
  return torch::randn({n, options_.latent_dim}, classifier_->parameters().front().options());
}

std::string M2Impl::describe() const {
  const M2Options& o = options_;
  return "M2 semi-supervised VAE (Kingma et al. 2014): label y of " + std::to_string(o.classes) +
         " classes as a latent, " + std::to_string(o.latent_dim) + " latent dims, hidden " + widths_text(o.hidden) +
         ", " + o.likelihood + " likelihood";
}

}  // namespace elbo::model
