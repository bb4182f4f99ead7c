#pragma once
#include "elbo/core/config.h"
#include "elbo/objective/objective.h"

#include <memory>

namespace elbo::objective {

/// The objective a run config describes (objective.* keys).
std::shared_ptr<Objective> make_objective(const Config& config);

}  // namespace elbo::objective
