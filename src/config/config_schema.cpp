// The whole config schema, assembled from the part each module owns (its config_keys.cpp, beside
// its factory). Core declares config_schema() and Config validates against it; this file, above
// every module, defines it. The parts are plain data without LibTorch, so every build (module
// subsets, the config fuzzer) compiles all of them and knows every key.
#include "elbo/core/config.h"
#include "elbo/data/config_keys.h"
#include "elbo/model/config_keys.h"
#include "elbo/objective/config_keys.h"
#include "elbo/run/config_keys.h"
#include "elbo/train/config_keys.h"

namespace elbo {

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> schema = [] {
    std::vector<ConfigKey> keys;
    for (auto part : {data::config_keys(), model::config_keys(), objective::config_keys(), train::config_keys(),
                      run::config_keys()})
      keys.insert(keys.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    return keys;
  }();
  return schema;
}

}  // namespace elbo
