#include "elbo/diag/cross_modal.h"

#include "elbo/core/json.h"
#include "elbo/data/multimodal.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/imputation.h"

#include <cmath>

namespace elbo::diag {

std::vector<CrossModalScore> cross_modal_log_likelihood(model::Model& model, const data::Dataset& data, int64_t k,
                                                         uint64_t seed) {
  std::vector<CrossModalScore> out;
  const auto& modalities = data.modalities;
  if (modalities.size() < 2 || data.size() == 0) return out;
  std::vector<torch::Tensor> here;
  for (const auto& m : modalities) here.push_back(data::present(data.mask, m, data.size()));
  const torch::Tensor count = torch::stack(here, 1).sum(1);
  for (size_t i = 0; i < modalities.size(); ++i) {
    CrossModalScore s;
    s.modality = modalities[i].name;
    const torch::Tensor rows = (here[i] & (count >= 2)).nonzero().view(-1);
    s.rows = rows.numel();
    if (s.rows == 0) {
      s.conditional = s.marginal = std::nan("");
      out.push_back(s);
      continue;
    }
    const data::Dataset part = data.subset(rows.to(data.x.device()));
    std::vector<size_t> others;
    for (size_t j = 0; j < modalities.size(); ++j)
      if (j != i) others.push_back(j);
    ImputationOptions io;
    io.particles = k;
    io.draws = 1;
    io.seed = seed;
    s.conditional = impute(model, data::select_modalities(part, others, {i}), io).hidden_log_likelihood.mean().item<double>();
    EvidenceOptions eo;
    eo.k = k;
    eo.seed = seed;
    s.marginal = estimate_evidence(model, data::select_modalities(part, {i}, {}), eo).log_px.mean().item<double>();
    out.push_back(s);
  }
  return out;
}

Json to_json(const std::vector<CrossModalScore>& scores) {
  Json out = Json::array();
  for (const auto& s : scores)
    out.push_back({{"modality", s.modality}, {"rows", s.rows}, {"conditional", s.conditional},
                   {"marginal", s.marginal}, {"information", s.information()}});
  return out;
}

}  // namespace elbo::diag
