#pragma once
// JSON through nlohmann/json (Debian's nlohmann-json3-dev). Objects keep their keys in the
// order written; dump() writes NaN and infinities as null and escapes strings.
#include "elbo/core/json_fwd.h"

#include <nlohmann/json.hpp>

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo {

/// A tensor's values as a JSON array of numbers (nested for more than one dimension);
/// an undefined tensor gives [].
Json json_array(const torch::Tensor& t);

/// The number at `key` of a JSON object, NaN where it is absent or not a number
/// (a non-finite value was written as null).
double json_number(const Json& object, const std::string& key);

/// One JSON value per line of a JSON-lines file (e.g. metrics.jsonl); a line cut by a kill
/// mid-write or otherwise not JSON is skipped with a warning on stderr naming PATH:LINE.
/// A missing file reads as no lines.
std::vector<Json> read_json_lines(const std::string& path);

}  // namespace elbo
