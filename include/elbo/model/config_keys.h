#pragma once
#include <vector>

#include "elbo/core/config.h"

namespace elbo::model {

/// The model.* keys of the config schema (config_schema() joins every module's part): the family
/// (model.type), its networks, latents, likelihood and prior. Read by model::make_model.
std::vector<ConfigKey> config_keys();

}  // namespace elbo::model
