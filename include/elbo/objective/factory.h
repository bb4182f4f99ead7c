#pragma once
#include "elbo/core/config.h"
#include "elbo/objective/objective.h"

#include <memory>

namespace elbo::objective {

/// The objective a run config describes (objective.* keys). `train_size` is the
/// number of training examples (needed by objective.type = "tcvae").
std::shared_ptr<Objective> make_objective(const Config& config, int64_t train_size = 0);

}  // namespace elbo::objective
