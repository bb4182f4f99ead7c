#pragma once
#include "elbo/dist/normal.h"

#include <string>

namespace elbo::dist {

/// Builds the prior over a latent of `dim` dimensions from its config name:
///  - "normal": N(0, scale^2 I) (scale = 1 is the standard Normal prior);
///  - "dirac": refused with std::invalid_argument explaining that KL(q || delta)
///    is infinite (support mismatch) and naming the fix: "normal" with a small scale.
Normal make_prior(const std::string& kind, int64_t dim, double scale,
                  const torch::TensorOptions& options = {});

}  // namespace elbo::dist
