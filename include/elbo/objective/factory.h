#pragma once
#include "elbo/core/config.h"
#include "elbo/objective/objective.h"

#include <memory>

namespace elbo::objective {

/// The objective a run config describes (objective.* keys). `train_size` is the number of
/// training examples N (needed by objective.type = "tcvae"), `labelled` the number of them
/// with a known label L (M2's classification weight objective.alpha * N / L per labelled row).
std::shared_ptr<Objective> make_objective(const Config& config, int64_t train_size = 0, int64_t labelled = 0);

}  // namespace elbo::objective
