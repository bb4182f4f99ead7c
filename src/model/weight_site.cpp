#include "elbo/model/weight_site.h"

namespace elbo::model {

Site weight_site(const std::string& name, const std::vector<nn::GaussianWeights>& weights,
                 const nn::WeightPrior& prior, double share, const nn::WeightCost& drawn) {
  nn::WeightCost cost = drawn;
  if (cost.log_q.defined()) cost.kl = nn::closed_form_kl(weights, prior);
  else cost = nn::weight_cost(weights, prior);
  Site s;
  s.name = name;
  s.kind = SiteKind::global;
  s.kl = cost.kl;
  s.log_q = cost.log_q.unsqueeze(-1);  // [1, 1]
  s.log_p = cost.log_p.unsqueeze(-1);
  s.share = share;
  return s;
}

}  // namespace elbo::model
