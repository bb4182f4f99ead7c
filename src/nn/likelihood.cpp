#include "elbo/nn/likelihood.h"

#include "elbo/core/check.h"
#include "elbo/dist/bernoulli.h"
#include "elbo/dist/categorical.h"
#include "elbo/dist/continuous_bernoulli.h"
#include "elbo/dist/laplace.h"
#include "elbo/dist/negative_binomial.h"
#include "elbo/dist/normal.h"
#include "elbo/dist/poisson.h"

#include <cmath>

namespace elbo::nn {

LikelihoodImpl::LikelihoodImpl(const LikelihoodOptions& options) : options_(options) {
  const auto& kind = options.kind();
  ELBO_CHECK(kind == "bernoulli" || kind == "continuous_bernoulli" || kind == "gaussian" || kind == "laplace" ||
                 kind == "categorical" || kind == "poisson" || kind == "negative_binomial",
             "likelihood '", kind,
             "' is not one of: bernoulli, continuous_bernoulli, gaussian, laplace, categorical, poisson, "
             "negative_binomial");
  ELBO_CHECK(options.features() > 0, "elbo::nn::Likelihood: features must be positive (got ", options.features(), ")");
  if (kind == "gaussian" || kind == "laplace" || kind == "negative_binomial") {
    const auto& mode = options.scale_mode();
    ELBO_CHECK(mode == "fixed" || mode == "shared" || mode == "per_feature", "likelihood_scale '", mode,
               "' is not one of: fixed, shared, per_feature");
    ELBO_CHECK(options.scale() > 0 && std::isfinite(options.scale()), "likelihood scale must be positive (got ",
               options.scale(), ")");
    const int64_t n = mode == "per_feature" ? options.features() : 1;
    torch::Tensor init = torch::full({n}, std::log(options.scale()));
    log_scale_ = mode == "fixed" ? register_buffer("log_scale", init) : register_parameter("log_scale", init);
  }
  if (kind == "categorical")
    ELBO_CHECK(options.categories() >= 2, "categorical likelihood needs >= 2 categories (got ", options.categories(),
               ")");
}

int64_t LikelihoodImpl::params_per_feature() const {
  return options_.kind() == "categorical" ? options_.categories() : 1;
}

int64_t LikelihoodImpl::raw_features() const { return params_per_feature() * options_.features(); }

dist::DistributionPtr LikelihoodImpl::forward(const torch::Tensor& raw) {
  ELBO_CHECK(raw.dim() >= 1 && raw.size(-1) == raw_features(), "elbo::nn::Likelihood(", options_.kind(),
             "): expected decoder output [..., ", raw_features(), "], got ", raw.sizes());
  const auto& kind = options_.kind();
  if (kind == "bernoulli") return std::make_shared<dist::Bernoulli>(raw);
  if (kind == "continuous_bernoulli") return std::make_shared<dist::ContinuousBernoulli>(raw);
  if (kind == "poisson") return std::make_shared<dist::Poisson>(raw);
  if (kind == "categorical") {
    auto sizes = raw.sizes().vec();
    sizes.back() = options_.features();
    sizes.push_back(options_.categories());
    return std::make_shared<dist::Categorical>(raw.view(sizes));
  }
  torch::Tensor log_scale = log_scale_.expand_as(raw);
  if (kind == "negative_binomial") return std::make_shared<dist::NegativeBinomial>(raw, log_scale);
  if (kind == "gaussian") return std::make_shared<dist::Normal>(raw, log_scale);
  return std::make_shared<dist::Laplace>(raw, log_scale);
}

}  // namespace elbo::nn
