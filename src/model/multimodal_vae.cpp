#include "elbo/model/multimodal_vae.h"

#include "elbo/core/check.h"
#include "elbo/data/multimodal.h"
#include "elbo/dist/joint.h"
#include "elbo/dist/prior.h"

#include <cmath>

namespace elbo::model {

MultimodalVaeOptions MultimodalVaeOptions::from_config(const Config& c, const data::Schema& schema) {
  MultimodalVaeOptions o;
  o.modalities = schema.modalities.empty() ? data::modalities_of(c) : schema.modalities;
  o.latent_dim = c.get_int("model.latent_dim");
  o.hidden = c.get_ints("model.hidden");
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.likelihood_scale = c.get_string("model.likelihood_scale");
  o.scale = c.get_double("model.scale");
  o.prior_scale = c.get_double("model.prior_scale");
  o.decoder_init_scale = c.get_double("model.decoder_init_scale");
  o.encoder_mask = c.get_bool("model.encoder_mask");
  o.subsets = c.get_bool("objective.subsets");
  o.random_subsets = c.get_int("objective.random_subsets");
  o.subsets_score_present = c.get_string("objective.subset_terms") == "present";
  return o;
}

namespace {

/// Inputs per row of modality m's expert: one-hot classes for a categorical modality.
int64_t expert_inputs(const data::Modality& m, bool with_mask) {
  const int64_t values = m.likelihood == "categorical" ? m.width * m.categories : m.width;
  return values + (with_mask ? m.width : 0);
}

}  // namespace

MultimodalVaeImpl::MultimodalVaeImpl(const MultimodalVaeOptions& o) : options_(o) {
  ELBO_CHECK(!o.modalities.empty(), "model.type = \"multimodal\" needs [[data.modalities]] tables");
  ELBO_CHECK(o.latent_dim > 0, "elbo::model::MultimodalVae: latent_dim must be positive (got ", o.latent_dim, ")");
  prior_log_scale_ = register_buffer("prior_log_scale", torch::full({o.latent_dim}, std::log(o.prior_scale)));
  for (const auto& m : o.modalities) {
    ELBO_CHECK(m.width > 0, "modality '", m.name, "' has no columns recorded (a run config needs data.modalities[].width)");
    ELBO_CHECK(m.likelihood != "categorical" || m.categories >= 2, "modality '", m.name,
               "': a categorical modality needs >= 2 categories (got ", m.categories, ")");
    features_ += m.width;
    const auto& widths = m.hidden.empty() ? o.hidden : m.hidden;
    auto likelihood = nn::Likelihood(nn::LikelihoodOptions(m.likelihood, m.width)
                                         .scale_mode(o.likelihood_scale)
                                         .scale(o.scale)
                                         .categories(std::max<int64_t>(m.categories, 2)));
    const std::vector<int64_t> mirrored(widths.rbegin(), widths.rend());
    experts_.push_back(register_module(
        "expert_" + m.name,
        nn::Mlp(nn::MlpOptions(expert_inputs(m, o.encoder_mask), 2 * o.latent_dim).hidden(widths).activation(o.activation))));
    decoders_.push_back(register_module(
        "decoder_" + m.name, nn::Mlp(nn::MlpOptions(o.latent_dim, likelihood->raw_features())
                                         .hidden(mirrored)
                                         .activation(o.activation)
                                         .output_init_scale(o.decoder_init_scale))));
    likelihoods_.push_back(register_module("likelihood_" + m.name, likelihood));
  }
}

MultimodalVaeImpl::Experts MultimodalVaeImpl::experts(const Batch& batch) {
  ELBO_CHECK(batch.x.dim() == 2 && batch.x.size(1) == features_, "elbo::model::MultimodalVae: expected data [B, ",
             features_, "], got ", batch.x.sizes());
  const int64_t b = batch.x.size(0);
  Experts e;
  for (size_t i = 0; i < experts_.size(); ++i) {
    const data::Modality& m = options_.modalities[i];
    Batch part;
    part.x = batch.x.narrow(1, m.begin, m.width);
    if (batch.mask.defined()) part.mask = batch.mask.narrow(1, m.begin, m.width);
    Tensor input = encoder_input(part, false);
    if (m.likelihood == "categorical")
      input = torch::one_hot(input.to(torch::kLong).clamp(0, m.categories - 1), m.categories)
                  .mul(part.mask.defined() ? part.mask.unsqueeze(-1) : torch::ones_like(input).unsqueeze(-1))
                  .flatten(1)
                  .to(batch.x.scalar_type());
    if (options_.encoder_mask) input = torch::cat({input, part.mask.defined() ? part.mask.to(input.options()) : torch::ones_like(part.x)}, 1);
    const dist::Normal expert = dist::posterior_from_raw(experts_[i]->forward(input));
    const Tensor here = data::present(part.mask, data::Modality{m.name, 0, m.width}, b).to(batch.x.device()).unsqueeze(1);
    // An absent modality's expert has precision 0 (log precision -inf): it drops out of the product.
    e.log_precision.push_back(torch::where(here, -2 * expert.log_scale(), torch::full_like(expert.log_scale(), -INFINITY)));
    e.loc.push_back(expert.loc());
  }
  return e;
}

dist::DistributionPtr MultimodalVaeImpl::product(const Experts& e, const Tensor& index, const Tensor& chosen) const {
  const auto rows = [&](const Tensor& t) { return index.defined() ? t.index_select(0, index) : t; };
  const Tensor& first = e.loc.front();
  const int64_t r = index.defined() ? index.size(0) : first.size(0);
  // Expert 0 is the prior N(0, s^2): log precision -2 log s, mean 0.
  std::vector<Tensor> log_precisions{(-2 * prior_log_scale_).expand({r, options_.latent_dim})};
  std::vector<Tensor> means{torch::zeros({r, options_.latent_dim}, first.options())};
  for (size_t i = 0; i < e.loc.size(); ++i) {
    const Tensor log_precision = rows(e.log_precision[i]);
    log_precisions.push_back(chosen.defined() ? torch::where(chosen.select(1, static_cast<int64_t>(i)).unsqueeze(1),
                                                             log_precision, torch::full_like(log_precision, -INFINITY))
                                              : log_precision);
    means.push_back(rows(e.loc[i]));
  }
  const Tensor log_t = torch::stack(log_precisions);        // [M + 1, R, D]
  const Tensor log_total = torch::logsumexp(log_t, 0);      // log T
  const Tensor weights = (log_t - log_total).exp();         // T_m / T (0 for absent experts)
  const Tensor mean = (weights * torch::stack(means)).sum(0);
  return std::make_shared<dist::Normal>(mean, -0.5 * log_total);
}

dist::DistributionPtr MultimodalVaeImpl::posterior(const Batch& batch) { return product(experts(batch)); }

dist::DistributionPtr MultimodalVaeImpl::likelihood(const Tensor& z) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.latent_dim, "elbo::model::MultimodalVae: expected codes [..., ",
             options_.latent_dim, "], got ", z.sizes());
  std::vector<dist::DistributionPtr> parts;
  std::vector<int64_t> widths;
  for (size_t i = 0; i < decoders_.size(); ++i) {
    parts.push_back(likelihoods_[i]->forward(decoders_[i]->forward(z)));
    widths.push_back(options_.modalities[i].width);
  }
  return std::make_shared<dist::Joint>(parts, widths);
}

Tensor MultimodalVaeImpl::sample_prior(int64_t n) {
  ELBO_CHECK(n > 0, "elbo::model::MultimodalVae: sample count must be positive (got ", n, ")");
  return dist::Normal(torch::zeros_like(prior_log_scale_), prior_log_scale_).sample(n);
}

MultimodalVaeImpl::Subsets MultimodalVaeImpl::training_subsets(const Batch& batch) const {
  const int64_t b = batch.size(), n_mod = static_cast<int64_t>(options_.modalities.size());
  const auto device = batch.x.device();
  std::vector<Tensor> here_columns;
  for (int64_t i = 0; i < n_mod; ++i) here_columns.push_back(data::present(batch.mask, options_.modalities[i], b).to(device));
  const Tensor here = torch::stack(here_columns, 1);  // [B, M] bool
  const Tensor count = here.sum(1);
  std::vector<Tensor> rows{torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(device))};
  std::vector<Tensor> chosen{here}, scored{here};
  auto add = [&](const Tensor& subset) {  // subset [B, M] bool; keeps rows with a proper non-empty subset
    const Tensor keep = (subset.sum(1) > 0) & (subset.sum(1) < count);
    const Tensor index = keep.nonzero().view(-1);
    rows.push_back(index);
    chosen.push_back(subset.index_select(0, index));
    scored.push_back((options_.subsets_score_present ? here : subset).index_select(0, index));
  };
  if (options_.subsets)
    for (int64_t i = 0; i < n_mod; ++i)
      add(here & (torch::arange(n_mod, torch::TensorOptions().device(device)) == i).unsqueeze(0));
  for (int64_t k = 0; k < options_.random_subsets; ++k)
    add(here & (torch::rand({b, n_mod}, torch::TensorOptions().device(device)) < 0.5));
  return {torch::cat(rows), torch::cat(chosen), torch::cat(scored)};
}

MultimodalVaeImpl::TrainingRows MultimodalVaeImpl::training_rows(const Batch& batch) const {
  if (!options_.subsets && options_.random_subsets == 0) return {batch, batch};
  const Subsets s = training_subsets(batch);
  return {rows_of(batch, s.index, s.chosen), rows_of(batch, s.index, s.scored)};
}

Batch MultimodalVaeImpl::rows_of(const Batch& batch, const Tensor& index, const Tensor& modalities) const {
  Tensor membership = torch::zeros({static_cast<int64_t>(options_.modalities.size()), features_}, batch.x.options());
  for (size_t i = 0; i < options_.modalities.size(); ++i) {
    const auto& m = options_.modalities[i];
    membership[static_cast<int64_t>(i)].narrow(0, m.begin, m.width).fill_(1);  // [M, D]: 1 where the column is m's
  }
  const Tensor columns = modalities.to(batch.x.scalar_type()).matmul(membership);  // [R, D]
  Batch out;
  out.x = batch.x.index_select(0, index);
  out.mask = batch.mask.defined() ? batch.mask.index_select(0, index).to(columns.scalar_type()) * columns : columns;
  return out;
}

Trace MultimodalVaeImpl::forward(const Batch& batch, int64_t particles) {
  if (!is_training() || (!options_.subsets && options_.random_subsets == 0))
    return forward_with(batch, posterior(batch), particles);
  // The rows of training_rows(batch), each expert run once on the batch and each decoder only on
  // the rows that score its modality (the others' log-likelihood terms are 0).
  const Subsets s = training_subsets(batch);  // random subsets drawn once, for the rows and the product
  const Batch rows = rows_of(batch, s.index, s.scored);
  Trace trace;
  trace.sites.push_back(sample_latent("z", product(experts(batch), s.index, s.chosen),
                                      dist::Normal(torch::zeros_like(prior_log_scale_), prior_log_scale_), particles));
  const Tensor z = trace.sites.back().value;  // [K, R, D]
  for (size_t i = 0; i < decoders_.size(); ++i) {
    const data::Modality& m = options_.modalities[i];
    const Tensor keep = s.scored.select(1, static_cast<int64_t>(i)).nonzero().view(-1);
    const Tensor x = rows.x.narrow(1, m.begin, m.width), mask = rows.mask.narrow(1, m.begin, m.width);
    const Tensor log_p = likelihoods_[i]->forward(decoders_[i]->forward(z.index_select(1, keep)))
                             ->log_prob(x.index_select(0, keep), mask.index_select(0, keep));  // [K, kept]
    Site site;
    site.name = m.name;
    site.kind = SiteKind::observed;
    site.value = x;
    site.mask = mask;
    site.log_p = torch::zeros({z.size(0), z.size(1)}, log_p.options()).index_add(1, keep, log_p);
    trace.sites.push_back(std::move(site));
  }
  return trace;
}

Trace MultimodalVaeImpl::forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::MultimodalVae: particles must be >= 1 (got ", particles, ")");
  ELBO_CHECK(q && q->has_rsample(), "elbo::model::MultimodalVae: an external posterior must be reparameterizable");
  const auto shape = q->sample_shape();
  ELBO_CHECK(batch.x.dim() == 2 && batch.x.size(1) == features_ && shape.size() == 2 && shape[0] == batch.x.size(0) &&
                 shape[1] == options_.latent_dim,
             "elbo::model::MultimodalVae: expected data [B, ", features_, "] and a posterior [B, ", options_.latent_dim,
             "], got ", batch.x.sizes(), " and ", c10::IntArrayRef(shape));
  Trace trace;
  trace.sites.push_back(sample_latent("z", q, dist::Normal(torch::zeros_like(prior_log_scale_), prior_log_scale_), particles));
  const Tensor z = trace.sites.back().value;
  for (size_t i = 0; i < decoders_.size(); ++i) {
    const data::Modality& m = options_.modalities[i];
    const Tensor mask = batch.mask.defined() ? batch.mask.narrow(1, m.begin, m.width) : Tensor();
    trace.sites.push_back(
        observe(m.name, *likelihoods_[i]->forward(decoders_[i]->forward(z)), batch.x.narrow(1, m.begin, m.width), mask));
  }
  return trace;
}

std::string MultimodalVaeImpl::describe() const {
  std::string names;
  for (const auto& m : options_.modalities) names += (names.empty() ? "" : ", ") + m.name + " (" + m.likelihood + ")";
  return "multimodal VAE, product of experts: " + names + "; " + std::to_string(options_.latent_dim) + " latent dims";
}

}  // namespace elbo::model
