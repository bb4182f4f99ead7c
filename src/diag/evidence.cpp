#include "elbo/diag/evidence.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"

#include <chrono>
#include <cmath>

namespace elbo::diag {
namespace {

/// A latent-site field of every latent site, concatenated over the last axis (averaged over the
/// particle axis with `average_particles`); undefined if a latent site lacks it or there is none.
Tensor cat_latents(const model::Trace& t, Tensor model::Site::*field, bool average_particles) {
  std::vector<Tensor> parts;
  for (const auto* s : t.latents()) {
    const Tensor& v = s->*field;
    if (!v.defined()) return {};
    parts.push_back(average_particles ? v.mean(0) : v);
  }
  return parts.empty() ? Tensor() : torch::cat(parts, -1);
}

/// Each site's KL term summed over the kc particles of a chunk, [b, G] (Trace::kl_by_site).
Tensor site_kl_sums(const std::vector<std::pair<std::string, Tensor>>& by_site, int64_t b, int64_t kc) {
  std::vector<Tensor> columns;
  for (const auto& [name, k] : by_site)
    columns.push_back(k.size(0) == 1 ? k[0].to(torch::kDouble) * kc : k.to(torch::kDouble).sum(0));
  return columns.empty() ? torch::zeros({b, 0}, torch::kDouble) : torch::stack(columns, -1);
}

}  // namespace

Evidence estimate_evidence(model::Model& model, const data::Dataset& data, const EvidenceOptions& o) {
  ELBO_CHECK(o.k >= 1, "evidence: K must be >= 1 (got ", o.k, ")");
  ELBO_CHECK(o.batch_size >= 1 && o.max_rows >= 1, "evidence: batch_size and max_rows must be positive");
  ELBO_CHECK(data.size() > 0, "evidence: the data set '", data.name, "' is empty");
  ELBO_CHECK(data.features() == model.features(), "evidence: data '", data.name, "' has ", data.features(),
             " features per example, the model expects ", model.features());
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  const int64_t n = data.size();
  std::vector<Tensor> log_px, se, elbo, rec, kl, kl_dim, q_mean, group_kl;
  Evidence e;
  int64_t counter = 0;
  for (int64_t begin = 0; begin < n; begin += o.batch_size) {
    data::Batch batch = data.slice(begin, std::min(n, begin + o.batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    const int64_t b = batch.size();
    const int64_t chunk = std::max<int64_t>(1, std::min(o.k, o.max_rows / b));
    // Running sums in log space: log sum w, log sum w^2; plain sums for the ELBO parts.
    Tensor lse, lse2, sum_w, sum_rec, sum_kl, sum_groups, dims, means;
    for (int64_t done = 0; done < o.k; done += chunk) {
      const int64_t kc = std::min(chunk, o.k - done);
      seed_stream(o.seed, RngStream::evaluation, counter++);
      const model::Trace t = model.forward(batch, kc);
      Tensor w = t.log_weights().to(torch::kDouble);  // [kc, b]
      Tensor l1 = torch::logsumexp(w, 0), l2 = torch::logsumexp(2 * w, 0);
      lse = lse.defined() ? torch::logaddexp(lse, l1) : l1;
      lse2 = lse2.defined() ? torch::logaddexp(lse2, l2) : l2;
      Tensor ws = w.sum(0), rs = t.log_likelihood().to(torch::kDouble).sum(0);
      // The analytic KL where every latent site has one, else log q - log p throughout.
      const bool analytic = t.kl_per_dim().defined() || t.latents().empty();
      const auto by_site = t.kl_by_site(analytic);
      Tensor gs = site_kl_sums(by_site, b, kc), ks = gs.sum(-1);
      sum_w = sum_w.defined() ? sum_w + ws : ws;
      sum_rec = sum_rec.defined() ? sum_rec + rs : rs;
      sum_kl = sum_kl.defined() ? sum_kl + ks : ks;
      sum_groups = sum_groups.defined() ? sum_groups + gs : gs;
      if (e.groups.empty())
        for (const auto& s : t.sites) {
          if (s.kind == model::SiteKind::observed) continue;
          e.groups.push_back(s.name);
          e.group_dims.push_back(s.kind == model::SiteKind::latent ? s.value.size(-1) : 0);
        }
      if (done == 0) {
        const Tensor per_dim = t.kl_per_dim();
        if (per_dim.defined()) dims = per_dim.mean(0);
        means = cat_latents(t, &model::Site::q_mean, false);
      }
    }
    const double k = static_cast<double>(o.k);
    log_px.push_back(lse - std::log(k));
    // Var(p̂)/p̂^2 ≈ (mean w^2 / mean(w)^2 - 1) / K  (delta method); se(log p̂) = sqrt of it.
    Tensor rel_var = torch::clamp_min(torch::exp(lse2 - std::log(k) - 2 * (lse - std::log(k))) - 1, 0) / k;
    se.push_back(rel_var.sqrt());
    elbo.push_back(sum_w / k);
    rec.push_back(sum_rec / k);
    kl.push_back(sum_kl / k);
    group_kl.push_back(sum_groups / k);
    if (dims.defined()) kl_dim.push_back(dims.to(torch::kDouble));
    if (means.defined()) q_mean.push_back(means.to(torch::kDouble));
    if (o.progress) o.progress(std::min(n, begin + o.batch_size), n);
  }
  auto cat = [](const std::vector<Tensor>& v) { return v.empty() ? Tensor() : torch::cat(v).cpu(); };
  e.k = o.k;
  e.log_px = cat(log_px);
  e.log_px_mc_se = cat(se);
  e.elbo = cat(elbo);
  e.reconstruction = cat(rec);
  e.kl = cat(kl);
  e.kl_per_dim = cat(kl_dim);
  e.q_mean = cat(q_mean);
  e.group_kl = cat(group_kl);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model.train();
  return e;
}

}  // namespace elbo::diag
