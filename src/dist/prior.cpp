#include "elbo/dist/prior.h"

#include <cmath>

#include "elbo/core/check.h"

namespace elbo::dist {

Normal make_prior(const std::string& kind, int64_t dim, double scale,
                  const torch::TensorOptions& options) {
  const std::string who = "elbo::dist::make_prior";
  ELBO_CHECK(kind != "dirac", who,
             ": prior \"dirac\" is refused: KL(q || Dirac) is infinite for any continuous q "
             "(support mismatch: q puts probability mass where the point-mass prior has none, so "
             "log q/p = +inf wherever z != value). Fix: soften the prior to a narrow Gaussian, e.g. "
             "prior = \"normal\" with prior_scale = 0.01");
  ELBO_CHECK(kind == "normal", who, ": unknown prior \"", kind, "\" (valid kinds: \"normal\")");
  ELBO_CHECK(dim > 0, who, ": latent dim must be positive (got ", dim, ")");
  ELBO_CHECK(scale > 0 && std::isfinite(scale), who,
             ": prior_scale must be positive and finite (got ", scale, ")");
  return Normal(torch::zeros({dim}, options), torch::full({dim}, std::log(scale), options));
}

}  // namespace elbo::dist
