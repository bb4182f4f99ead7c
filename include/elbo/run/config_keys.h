#pragma once
#include <vector>

#include "elbo/core/config.h"

namespace elbo::run {

/// The eval.* and report.* keys of the config schema (config_schema() joins every module's part):
/// what run::evaluate estimates and what the report draws.
std::vector<ConfigKey> config_keys();

}  // namespace elbo::run
