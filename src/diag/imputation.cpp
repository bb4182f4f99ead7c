#include "elbo/diag/imputation.h"

#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/core/rng.h"

#include <algorithm>
#include <cmath>

namespace elbo::diag {
namespace {

/// One pass: SIR imputations of a batch, and the log-likelihood of its hidden true values.
struct Pass {
  Tensor draws, mean, ess, hidden_log_likelihood;
};

Pass impute_batch(model::Model& model, const data::Batch& batch, const Tensor& truth, const Tensor& hidden,
                  const ImputationOptions& o) {
  const model::Trace trace = model.forward(batch, o.particles);
  ELBO_CHECK(!trace.enumerated(), "diag::impute: models with an enumerated latent (model.type = \"m2\") are not "
             "supported; imputation resamples a continuous code");
  std::vector<Tensor> codes;
  for (const model::Site* s : trace.latents()) codes.push_back(s->value);
  ELBO_CHECK(!codes.empty(), "diag::impute: the model has no per-example latent code to impute with");
  const Tensor code = torch::cat(codes, -1);                                     // [K, B, Dz]
  const Tensor log_w = torch::log_softmax(trace.log_weights().to(torch::kDouble), 0);  // [K, B], normalized
  const Tensor w = log_w.exp();
  const dist::DistributionPtr p = model.likelihood(code, batch.y);               // [K, B, D]
  Pass out;
  out.ess = 1.0 / w.square().sum(0);
  const Tensor observed = batch.mask.defined() ? batch.mask > 0 : torch::ones_like(batch.x, torch::kBool);
  const Tensor mean = (w.unsqueeze(-1) * p->mean().to(torch::kDouble)).sum(0).to(batch.x.scalar_type());
  out.mean = torch::where(observed, batch.x, mean);
  // Resampling: M particle indices per example from Categorical(w), then x_mis ~ p(x | z).
  const Tensor index = torch::multinomial(w.t().contiguous(), o.draws, /*replacement=*/true);  // [B, M]
  const Tensor chosen = code.transpose(0, 1)
                            .gather(1, index.unsqueeze(-1).expand({-1, -1, code.size(-1)}))
                            .transpose(0, 1);                                   // [M, B, Dz]
  const dist::DistributionPtr p_chosen = model.likelihood(chosen, batch.y);
  out.draws = torch::where(observed, batch.x, (o.code_means ? p_chosen->mean() : p_chosen->sample()).to(batch.x.scalar_type()));
  if (hidden.defined()) {  // log sum_k w_k p(x_hid | z_k) at the true values
    const Tensor log_p = p->log_prob(truth, hidden).to(torch::kDouble);        // [K, B]
    out.hidden_log_likelihood = torch::logsumexp(log_w + log_p, 0);
  }
  return out;
}

/// The passes over `data`: `each(pass, truth, hidden)` after each one (truth and hidden: its rows of
/// Dataset::x and Dataset::hidden, undefined without hidden entries).
template <typename Each>
void for_each_pass(model::Model& model, const data::Dataset& data, const ImputationOptions& o, Each each) {
  ELBO_CHECK(o.particles >= 1 && o.draws >= 1 && o.batch_size >= 1, "diag::impute: particles, draws and batch_size "
             "must be >= 1 (got ", o.particles, ", ", o.draws, ", ", o.batch_size, ")");
  ELBO_CHECK(model.latent_dim() > 0, "diag::impute: ", model.name(), " has no per-example latent code to impute with");
  torch::NoGradGuard no_grad;
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  const int64_t n = data.size(), per_row = std::max<int64_t>(1, o.particles * data.features());
  const int64_t rows = std::clamp<int64_t>(o.max_elements / per_row, 1, o.batch_size);
  for (int64_t begin = 0, pass = 0; begin < n; begin += rows, ++pass) {
    const int64_t end = std::min(n, begin + rows);
    data::Batch batch = data.slice(begin, end);
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    if (batch.y.defined()) batch.y = batch.y.to(device);
    const Tensor hidden = data.hidden.defined() ? data.hidden.slice(0, begin, end).to(device) : Tensor();
    const Tensor truth = hidden.defined() ? data::float_features(data.x.slice(0, begin, end)).to(device) : Tensor();
    seed_stream(o.seed, RngStream::evaluation, static_cast<uint64_t>(pass));
    each(impute_batch(model, batch, truth, hidden, o), truth, hidden);
  }
}

}  // namespace

Imputation impute(model::Model& model, const data::Dataset& data, const ImputationOptions& o) {
  std::vector<Tensor> draws, mean, ess, hidden_ll;
  for_each_pass(model, data, o, [&](const Pass& p, const Tensor&, const Tensor&) {
    draws.push_back(p.draws.cpu());
    mean.push_back(p.mean.cpu());
    ess.push_back(p.ess.cpu());
    if (p.hidden_log_likelihood.defined()) hidden_ll.push_back(p.hidden_log_likelihood.cpu());
  });
  Imputation out;
  if (draws.empty()) return out;
  out.draws = torch::cat(draws, 1);
  out.mean = torch::cat(mean);
  out.effective_sample_size = torch::cat(ess);
  if (!hidden_ll.empty()) out.hidden_log_likelihood = torch::cat(hidden_ll);
  return out;
}

ImputationScores score_imputation(model::Model& model, const data::Dataset& data, const ImputationOptions& o) {
  ELBO_CHECK(data.hidden.defined() && data.hidden.sum().item<double>() > 0, "diag::score_imputation: '", data.name,
             "' has no hidden entries with known values (set data.missing)");
  ImputationScores s;
  s.particles = o.particles;
  s.draws = o.draws;
  double squared = 0, inside50 = 0, inside90 = 0, log_lik = 0, ess = 0;
  for_each_pass(model, data, o, [&](const Pass& p, const Tensor& truth, const Tensor& hidden) {
    const Tensor h = hidden > 0;
    const Tensor q = torch::quantile(p.draws.to(torch::kDouble),
                                     torch::tensor({0.05, 0.25, 0.75, 0.95}, truth.options().dtype(torch::kDouble)), 0);
    const Tensor t = truth.to(torch::kDouble);
    auto inside = [&](int64_t lo, int64_t hi) { return ((t >= q[lo]) & (t <= q[hi]) & h).sum().item<double>(); };
    squared += (p.mean.to(torch::kDouble) - t).square().masked_select(h).sum().item<double>();
    inside50 += inside(1, 2);
    inside90 += inside(0, 3);
    log_lik += p.hidden_log_likelihood.sum().item<double>();
    ess += p.ess.sum().item<double>();
    s.hidden += h.sum().item<int64_t>();
    s.examples += truth.size(0);
  });
  const double hidden = static_cast<double>(s.hidden);
  s.rmse = std::sqrt(squared / hidden);
  s.coverage50 = inside50 / hidden;
  s.coverage90 = inside90 / hidden;
  s.log_likelihood = log_lik / hidden;
  s.effective_sample_size = ess / static_cast<double>(s.examples);
  return s;
}

Json to_json(const ImputationScores& s) {
  return {{"examples", s.examples},     {"hidden", s.hidden},         {"particles", s.particles},
          {"draws", s.draws},           {"rmse", s.rmse},             {"coverage50", s.coverage50},
          {"coverage90", s.coverage90}, {"log_likelihood", s.log_likelihood},
          {"effective_sample_size", s.effective_sample_size}};
}

}  // namespace elbo::diag
