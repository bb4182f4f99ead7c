#include "elbo/run/config_keys.h"

namespace elbo::run {

std::vector<ConfigKey> config_keys() {
  return {
      {"eval.k", int64_t{1000}, "importance samples K of the IWAE log-likelihood estimate", 1, 1e9},
      {"eval.n", int64_t{1000}, "test examples evaluated (0 = all)", 0, 1e12},
      {"eval.impute_draws", int64_t{100}, "data with entries hidden by data.missing: imputations per test example "
       "(their quantiles give the interval coverage)", 2, 1e6},
      {"eval.draws", int64_t{10}, "bnn, brnn: weight draws averaged by predictions (elbo predict --draws overrides)", 1, 1e6},
      {"report.samples", int64_t{64}, "images in the prior sample grid", 1, 10000},
      {"report.interpolation_steps", int64_t{10}, "images per latent interpolation row", 2, 1000},
  };
}

}  // namespace elbo::run
