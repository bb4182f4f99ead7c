#pragma once
#include <vector>

#include "elbo/core/config.h"

namespace elbo::data {

/// The data.* keys of the config schema (config_schema() joins every module's part): the format,
/// files and splits, labels, missing entries, modalities and the built-in generators (dsprites,
/// lattice fields, crystal substitutions). Read by data::load_data and its readers.
std::vector<ConfigKey> config_keys();

}  // namespace elbo::data
