#pragma once
// The JSON type by declaration only, for headers that name it (elbo/core/json.h defines it).
#include <nlohmann/json_fwd.hpp>

namespace elbo {
using Json = nlohmann::ordered_json;  ///< objects keep their keys in the order written
}  // namespace elbo
