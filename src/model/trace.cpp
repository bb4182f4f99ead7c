#include "elbo/model/trace.h"

#include "elbo/core/check.h"

#include <limits>

namespace elbo::model {
namespace {

Tensor plus(const Tensor& total, const Tensor& t) { return total.defined() ? total + t : t; }

/// sum_c w_c t_c over the leading enumeration axis of t ([C, K, B] or [C, K, B, D]) with w [C, B];
/// 0 * anything is 0 (a value of weight zero may score -inf).
Tensor expect(const Tensor& w, const Tensor& t) {
  std::vector<int64_t> shape{w.size(0), 1, w.size(1)};
  if (t.dim() == 4) shape.push_back(1);
  const Tensor wv = w.view(shape).to(t.scalar_type());
  return torch::where(wv > 0, wv * t, torch::zeros_like(t)).sum(0);
}

/// The observed mask of an enumerated site as [B] booleans (all true when undefined).
Tensor observed_rows(const Site& e) {
  return e.mask.defined() ? e.mask.to(torch::kBool) : torch::ones({e.weight.size(1)}, e.weight.options().dtype(torch::kBool));
}

}  // namespace

const char* to_string(SiteKind kind) {
  switch (kind) {
    case SiteKind::latent: return "latent";
    case SiteKind::enumerated: return "enumerated";
    case SiteKind::observed: return "observed";
    case SiteKind::global: return "global";
  }
  return "?";
}

const Site* Trace::find(const std::string& name) const {
  for (const auto& s : sites)
    if (s.name == name) return &s;
  return nullptr;
}

std::vector<const Site*> Trace::of_kind(SiteKind kind) const {
  std::vector<const Site*> out;
  for (const auto& s : sites)
    if (s.kind == kind) out.push_back(&s);
  return out;
}

const Site* Trace::enumerated() const {
  const auto e = of_kind(SiteKind::enumerated);
  ELBO_CHECK(e.size() <= 1, "elbo::model::Trace: at most one enumerated site is supported (got ", e.size(), ")");
  return e.empty() ? nullptr : e.front();
}

int64_t Trace::batch_size() const {
  for (const auto& s : sites)
    if (s.kind == SiteKind::observed || s.kind == SiteKind::latent) return s.log_p.size(-1);
  ELBO_CHECK(false, "elbo::model::Trace: no per-example site");
  return 0;
}

int64_t Trace::particles() const {
  int64_t k = 1;
  for (const auto& s : sites)
    if (s.kind == SiteKind::observed || s.kind == SiteKind::latent) k = std::max(k, s.log_p.size(-2));
  return k;
}

Tensor Trace::log_likelihood() const {
  Tensor total;
  for (const auto* s : of_kind(SiteKind::observed)) total = plus(total, s->log_p);
  ELBO_CHECK(total.defined(), "elbo::model::Trace: no observed site");
  const Site* e = enumerated();
  return e ? expect(e->weight, total) : total;
}

std::vector<std::pair<std::string, Tensor>> Trace::kl_by_site(bool analytic) const {
  const Site* e = enumerated();
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& s : sites) {
    Tensor k;
    if (s.kind == SiteKind::latent) {
      k = analytic && s.kl.defined() ? s.kl.sum(-1) : s.log_q - s.log_p;
      if (e) k = expect(e->weight, k);
    } else if (s.kind == SiteKind::enumerated) {
      // Unobserved rows: sum_c q(c) (log q(c) - log p(c)); observed rows: -log p(y).
      const Tensor rows = observed_rows(s).view({1, 1, -1});
      k = expect(s.weight, torch::where(rows, -s.log_p, s.log_q - s.log_p));
    } else if (s.kind == SiteKind::global) {
      k = (analytic && s.kl.defined() ? s.kl.reshape({1, 1}) : (s.log_q - s.log_p).reshape({-1, 1})) * s.share;
      k = k.expand({k.size(0), batch_size()});
    } else {
      continue;
    }
    out.emplace_back(s.name, k);
  }
  return out;
}

Tensor Trace::kl(bool analytic) const {
  Tensor total;
  for (const auto& [name, k] : kl_by_site(analytic)) total = plus(total, k);
  return total.defined() ? total : torch::zeros({1, batch_size()});
}

Tensor Trace::kl_per_dim() const {
  const Site* e = enumerated();
  std::vector<Tensor> parts;
  int64_t k = 1;
  for (const auto* s : latents()) {
    if (!s->kl.defined()) return {};
    parts.push_back(e ? expect(e->weight, s->kl) : s->kl);
    k = std::max(k, parts.back().size(0));
  }
  if (parts.empty()) return {};
  for (auto& p : parts) p = p.expand({k, p.size(1), p.size(2)});
  return parts.size() == 1 ? parts.front() : torch::cat(parts, -1);
}

Tensor Trace::log_weights() const {
  Tensor w;
  for (const auto* s : of_kind(SiteKind::observed)) w = plus(w, s->log_p);
  for (const auto* s : latents()) w = plus(w, s->log_p - s->log_q);
  if (const Site* e = enumerated()) {
    // log sum_c p(c) w_c; an observed row keeps only its label's term.
    const Tensor off_label = observed_rows(*e).view({1, 1, -1}) & (e->weight.unsqueeze(1) <= 0);
    Tensor per_value = w + e->log_p;
    per_value = per_value.masked_fill(off_label, -std::numeric_limits<double>::infinity());
    w = torch::logsumexp(per_value, 0);
  }
  for (const auto* s : of_kind(SiteKind::global)) w = w + (s->log_p - s->log_q).reshape({-1, 1}) * s->share;
  return w;
}

Tensor Trace::observed_label_log_q() const {
  const Site* e = enumerated();
  if (!e) return {};
  const Tensor rows = observed_rows(*e).to(e->log_q.scalar_type());
  return expect(e->weight, e->log_q).squeeze(0) * rows;
}

}  // namespace elbo::model
