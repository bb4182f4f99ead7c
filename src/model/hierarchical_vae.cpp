#include "elbo/model/hierarchical_vae.h"

#include "elbo/core/check.h"
#include "elbo/dist/kl.h"

#include <numeric>

namespace elbo::model {
namespace {


}  // namespace

HierarchicalVaeOptions HierarchicalVaeOptions::from_config(const Config& c, int64_t features) {
  ELBO_CHECK(c.get_string("model.encoder") == "mlp" && c.get_string("model.decoder") == "mlp",
             "model.type = \"hvae\" has MLP networks only; set model.encoder and model.decoder to \"mlp\"");
  ELBO_CHECK(!c.get_bool("model.conditional"), "model.conditional = true needs model.type = \"vae\"");
  ELBO_CHECK(c.get_string("model.prior") == "normal" && c.get_double("model.prior_scale") == 1.0,
             "model.type = \"hvae\" has the prior N(0, I) on its top layer; leave model.prior = \"normal\" and "
             "model.prior_scale = 1");
  HierarchicalVaeOptions o;
  o.features = features;
  o.latent_dims = c.get_ints("model.latent_dims");
  o.inference = c.get_string("model.inference");
  o.hidden = c.get_ints("model.hidden");
  o.encoder_hidden = c.get_ints("model.encoder_hidden");
  o.encoder_mask = c.get_bool("model.encoder_mask");
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.likelihood = c.get_string("model.likelihood");
  o.likelihood_scale = c.get_string("model.likelihood_scale");
  o.scale = c.get_double("model.scale");
  o.categories = c.get_int("model.categories");
  o.decoder_init_scale = c.get_double("model.decoder_init_scale");
  return o;
}

HierarchicalVaeImpl::HierarchicalVaeImpl(const HierarchicalVaeOptions& o) : options_(o) {
  const auto& d = o.latent_dims;
  ELBO_CHECK(d.size() >= 2, "model.latent_dims: model.type = \"hvae\" needs at least 2 layers (got ", d.size(),
             "); use model.type = \"vae\" for one");
  for (int64_t v : d) ELBO_CHECK(v > 0, "model.latent_dims: layer sizes must be positive (got ", v, ")");
  ELBO_CHECK(o.features > 0, "elbo::model::HierarchicalVae: features must be positive (got ", o.features, ")");
  ELBO_CHECK(o.inference == "mean_field" || o.inference == "structured", "model.inference '", o.inference,
             "' is not one of: mean_field, structured");
  latent_dim_ = std::accumulate(d.begin(), d.end(), int64_t{0});
  likelihood_ = register_module(
      "likelihood", nn::Likelihood(nn::LikelihoodOptions(o.likelihood, o.features)
                                       .scale_mode(o.likelihood_scale)
                                       .scale(o.scale)
                                       .categories(o.categories)));
  auto mlp = [&](int64_t in, int64_t out, const std::vector<int64_t>& widths) {
    return nn::Mlp(nn::MlpOptions(in, out).hidden(widths).activation(o.activation));
  };
  encoder_ = register_module(
      "encoder", mlp(o.features * (o.encoder_mask ? 2 : 1), 2 * (structured() ? d[0] : latent_dim_), o.encoder_hidden.empty() ? o.hidden : o.encoder_hidden));
  for (size_t l = 0; l + 1 < d.size(); ++l) {
    if (structured()) up_.push_back(register_module("up" + std::to_string(l + 1), mlp(d[l], 2 * d[l + 1], o.hidden)));
    down_.push_back(register_module("down" + std::to_string(l + 1), mlp(d[l + 1], 2 * d[l], o.hidden)));
  }
  std::vector<int64_t> mirrored(o.hidden.rbegin(), o.hidden.rend());
  decoder_ = register_module("decoder", nn::Mlp(nn::MlpOptions(d[0], likelihood_->raw_features())
                                                    .hidden(mirrored)
                                                    .activation(o.activation)
                                                    .output_init_scale(o.decoder_init_scale)));
}

Tensor HierarchicalVaeImpl::input(const Batch& batch) const {
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(1) == options_.features,
             "elbo::model::HierarchicalVae: expected data [B, ", options_.features, "], got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  return encoder_input(batch, options_.encoder_mask);
}

dist::Normal HierarchicalVaeImpl::prior(size_t l, const Tensor& above) {
  if (l < down_.size()) return dist::posterior_from_raw(down_[l]->forward(above));
  const Tensor zero = torch::zeros({options_.latent_dims.back()}, above.options());
  return dist::Normal(zero, zero);
}

dist::DistributionPtr HierarchicalVaeImpl::posterior(const Batch& batch) {
  dist::Normal q = dist::posterior_from_raw(encoder_->forward(input(batch)));
  if (!structured()) return std::make_shared<dist::Normal>(q);
  // q(z1|x), then each layer's q conditioned on the mean of the layer below.
  std::vector<Tensor> locs{q.loc()}, log_scales{q.log_scale()};
  for (auto& up : up_) {
    dist::Normal next = dist::posterior_from_raw(up->forward(locs.back()));
    locs.push_back(next.loc());
    log_scales.push_back(next.log_scale());
  }
  return std::make_shared<dist::Normal>(torch::cat(locs, -1), torch::cat(log_scales, -1));
}

dist::DistributionPtr HierarchicalVaeImpl::likelihood(const Tensor& z) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == latent_dim_, "elbo::model::HierarchicalVae: expected codes [..., ",
             latent_dim_, "] (z1, ..., zL concatenated), got ", z.sizes());
  return likelihood_->forward(decoder_->forward(z.narrow(-1, 0, options_.latent_dims.front())));
}

Tensor HierarchicalVaeImpl::sample_prior(int64_t n) {
  ELBO_CHECK(n > 0, "elbo::model::HierarchicalVae: sample count must be positive (got ", n, ")");
  const auto& d = options_.latent_dims;
  std::vector<Tensor> zs{torch::randn({n, d.back()}, decoder_->parameters().front().options())};
  for (size_t l = d.size() - 1; l-- > 0;) zs.insert(zs.begin(), prior(l, zs.front()).rsample());
  return torch::cat(zs, -1);
}

Trace HierarchicalVaeImpl::forward(const Batch& batch, int64_t particles) {
  if (!structured()) return forward_with(batch, posterior(batch), particles);
  ELBO_CHECK(particles >= 1, "elbo::model::HierarchicalVae: particles must be >= 1 (got ", particles, ")");
  // Ancestral sampling through q(z1|x) q(z2|z1) ...: one z_{l+1} per particle of z_l.
  std::vector<dist::Normal> qs{dist::posterior_from_raw(encoder_->forward(input(batch)))};
  std::vector<Tensor> zs{qs.back().rsample(particles)};
  for (auto& up : up_) {
    qs.push_back(dist::posterior_from_raw(up->forward(zs.back())));
    zs.push_back(qs.back().rsample());
  }
  return score(batch, qs, zs, /*analytic_below_top=*/false);
}

Trace HierarchicalVaeImpl::forward_with(const Batch& batch, const dist::DistributionPtr& external, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::HierarchicalVae: particles must be >= 1 (got ", particles, ")");
  const auto* gaussian_q = dynamic_cast<const dist::Normal*>(external.get());
  ELBO_CHECK(gaussian_q, "elbo::model::HierarchicalVae: an external posterior must be a diagonal Normal over [z1, ..., zL] (got ",
             external ? external->name() : std::string("none"), ")");
  const dist::Normal& q = *gaussian_q;
  const Tensor x = input(batch);
  ELBO_CHECK(q.loc().dim() == 2 && q.loc().size(0) == x.size(0) && q.loc().size(1) == latent_dim_,
             "elbo::model::HierarchicalVae: an external posterior must be [B, ", latent_dim_, "] for data ",
             x.sizes(), ", got ", q.loc().sizes());
  // A mean-field q over [z1, ..., zL]: split it, and its particles, by layer.
  const auto& d = options_.latent_dims;
  const auto locs = q.loc().split_with_sizes(d, -1), log_scales = q.log_scale().split_with_sizes(d, -1);
  const auto zs = q.rsample(particles).split_with_sizes(d, -1);
  std::vector<dist::Normal> qs;
  for (size_t l = 0; l < d.size(); ++l) qs.emplace_back(locs[l], log_scales[l]);
  return score(batch, qs, std::vector<Tensor>(zs.begin(), zs.end()), /*analytic_below_top=*/true);
}

Trace HierarchicalVaeImpl::score(const Batch& batch, const std::vector<dist::Normal>& qs,
                                 const std::vector<Tensor>& zs, bool analytic_below_top) {
  Trace t;
  const size_t layers = zs.size();
  for (size_t l = 0; l < layers; ++l) {
    const bool top = l + 1 == layers;
    const dist::Normal p = prior(l, top ? zs[l] : zs[l + 1]);
    Site s;
    s.name = "z" + std::to_string(l + 1);
    s.value = zs[l];
    s.log_q = qs[l].log_prob(zs[l]);
    s.log_p = p.log_prob(zs[l]);
    if (top || analytic_below_top) {
      Tensor kl = dist::kl_elements(qs[l], p);  // [B, D] (q and p without particles) or [K, B, D]
      s.kl = kl.dim() == 2 ? kl.unsqueeze(0) : kl;
    }
    const Tensor& mean = qs[l].loc();
    if (mean.dim() == 2) {
      s.q_mean = mean;
      s.q = std::make_shared<dist::Normal>(qs[l]);
    } else {
      s.q_mean = mean.mean(0);  // q(z_l | z_{l-1}): E_q[z_l | x] = E[mu_l(z_{l-1})], over the particles
    }
    t.sites.push_back(std::move(s));
  }
  t.sites.push_back(observe("x", *likelihood_->forward(decoder_->forward(zs.front())), batch.x, batch.mask));
  return t;
}

std::string HierarchicalVaeImpl::describe() const {
  const HierarchicalVaeOptions& o = options_;
  return "hierarchical VAE: latent layers " + widths_text(o.latent_dims) + " (z1 next to x), " + o.inference +
         " posterior, hidden " + widths_text(o.hidden) + ", " + o.likelihood + " likelihood";
}

}  // namespace elbo::model
