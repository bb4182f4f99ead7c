#pragma once
#include <vector>

#include "elbo/core/config.h"

namespace elbo::objective {

/// The objective.* keys of the config schema (config_schema() joins every module's part): the
/// bound (ELBO, IWAE, MIWAE, GECO, beta-TCVAE), its weights and schedules. Read by
/// objective::make_objective.
std::vector<ConfigKey> config_keys();

}  // namespace elbo::objective
