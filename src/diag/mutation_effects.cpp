#include "elbo/diag/mutation_effects.h"

#include "elbo/core/check.h"

#include <torch/utils.h>

namespace elbo::diag {
namespace {

/// ELBO of each row of `batch` with the same noise draws: the generator is reseeded before each
/// row's K particles are drawn.
Tensor common_noise_elbo(model::Model& model, const data::Batch& batch, int64_t particles, uint64_t seed) {
  std::vector<Tensor> out;
  for (int64_t i = 0; i < batch.size(); ++i) {
    data::Batch row{batch.x.narrow(0, i, 1)};
    if (batch.mask.defined()) row.mask = batch.mask.narrow(0, i, 1);
    torch::manual_seed(seed);
    const model::Trace trace = model.forward(row, particles);
    out.push_back((trace.log_likelihood() - trace.kl()).mean(0));
  }
  return torch::cat(out);
}

}  // namespace

Tensor mutation_effects(model::Model& model, const Tensor& x, const Tensor& mask, int64_t categories,
                        int64_t particles, uint64_t seed) {
  ELBO_CHECK(x.dim() == 1 && x.size(0) == model.features(), "elbo::diag::mutation_effects: expected one sequence [",
             model.features(), "], got ", x.sizes());
  ELBO_CHECK(categories >= 2 && particles >= 1, "elbo::diag::mutation_effects: needs >= 2 categories and >= 1 particle");
  torch::NoGradGuard no_grad;
  const int64_t L = x.size(0);
  const Tensor known = mask.defined() ? mask.to(torch::kBool) : torch::ones({L}, torch::kBool);
  // Variant (i, c) = x with position i set to c, rows i * C + c; the reference first.
  Tensor variants = x.to(torch::kFloat).unsqueeze(0).repeat({L * categories, 1});
  const Tensor rows = torch::arange(L * categories, torch::kLong);
  variants.index_put_({rows, rows.div(categories, "floor")}, rows.remainder(categories).to(torch::kFloat));
  data::Batch batch{torch::cat({x.to(torch::kFloat).unsqueeze(0), variants})};
  if (mask.defined()) batch.mask = mask.to(torch::kFloat).unsqueeze(0).expand({L * categories + 1, L});
  const Tensor elbo = common_noise_elbo(model, batch, particles, seed).to(torch::kDouble);
  Tensor delta = (elbo.narrow(0, 1, L * categories) - elbo[0]).view({L, categories});
  delta.masked_fill_(~known.unsqueeze(1), 0.0);
  delta.scatter_(1, x.to(torch::kLong).unsqueeze(1), 0.0);  // the reference symbol itself (noise-free 0)
  return delta;
}

double auroc(const Tensor& scores, const Tensor& labels) {
  ELBO_CHECK(scores.dim() == 1 && labels.sizes() == scores.sizes(), "elbo::diag::auroc: expected scores and labels [N], got ",
             scores.sizes(), " and ", labels.sizes());
  const Tensor s = scores.to(torch::kDouble), positive = labels.to(torch::kBool);
  const Tensor pos = s.masked_select(positive), neg = s.masked_select(~positive);
  ELBO_CHECK(pos.numel() > 0 && neg.numel() > 0, "elbo::diag::auroc: needs at least one positive and one negative");
  // Mann-Whitney U: pairs (p, n) with p > n, ties counted 1/2.
  const Tensor diff = pos.unsqueeze(1) - neg.unsqueeze(0);
  const double wins = (diff > 0).sum().item<double>() + 0.5 * (diff == 0).sum().item<double>();
  return wins / static_cast<double>(pos.numel() * neg.numel());
}

}  // namespace elbo::diag
