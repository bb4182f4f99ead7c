#pragma once
#include <vector>

#include "elbo/core/config.h"

namespace elbo::train {

/// The train.* keys of the config schema (config_schema() joins every module's part): Adam,
/// batches, seeds, checkpoints, non-finite steps, threads, device, the memory check and
/// data-parallel waits. Read by the trainer and run::train_run.
std::vector<ConfigKey> config_keys();

}  // namespace elbo::train
