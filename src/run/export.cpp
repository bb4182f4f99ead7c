#include "elbo/run/export.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"

#include <torch/serialize.h>

#include <variant>

namespace elbo::run {
namespace {

/// The dtype as PyTorch spells it ("float32", "int64", ...).
std::string python_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "float32";
    case torch::kDouble: return "float64";
    case torch::kHalf: return "float16";
    case torch::kLong: return "int64";
    case torch::kInt: return "int32";
    case torch::kByte: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

Json json_value(const ConfigValue& v) {
  return std::visit([](const auto& x) { return Json(x); }, v);
}

/// Config keys nested by section: "model.hidden" -> config["model"]["hidden"],
/// "data.modalities[1].name" -> config["data"]["modalities"][1]["name"].
Json nested_config(const Config& config) {
  Json out = Json::object();
  for (const auto& [key, value] : config.values()) {
    const auto dot = key.find('.');
    Json& section = out[key.substr(0, dot)];
    const std::string rest = key.substr(dot + 1);
    const auto open = rest.find('[');
    if (open == std::string::npos) {
      section[rest] = json_value(value);
      continue;
    }
    const auto close = rest.find(']', open);
    if (close == open + 1) continue;  // "data.modalities[].name": the schema's template, not a table
    Json& array = section[rest.substr(0, open)];
    if (array.is_null()) array = Json::array();
    const auto index = static_cast<size_t>(std::stoull(rest.substr(open + 1, close - open - 1)));
    while (array.size() <= index) array.push_back(Json::object());
    array[index][rest.substr(close + 2)] = json_value(value);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> state_dict(const LoadedRun& run) {
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (const auto& item : run.model->named_parameters()) entries.emplace_back(item.key(), item.value().detach().cpu());
  for (const auto& item : run.model->named_buffers()) entries.emplace_back(item.key(), item.value().detach().cpu());
  return entries;
}

Json export_metadata(const LoadedRun& run) {
  Json tensors = Json::object();
  for (const auto& [name, t] : state_dict(run))
    tensors[name] = {{"shape", Json(t.sizes().vec())}, {"dtype", python_dtype(t.scalar_type())}};
  const ImageShape& image = run.info.image;
  return {{"format", "elbo-state-dict-1"},
          {"model", run.model->describe()},
          {"features", run.info.features},
          {"image", {image.channels, image.height, image.width}},
          {"step", run.info.step},
          {"epoch", run.info.epoch},
          {"config", nested_config(run.config)},
          {"tensors", tensors}};
}

std::string export_metadata_path(const std::string& path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  const bool has_extension = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (has_extension ? path.substr(0, dot) : path) + ".json";
}

void export_state_dict(const LoadedRun& run, const std::string& path) {
  ELBO_CHECK(!ends_with(path, ".json"), "export '", path,
             "': the weights' file must not end in .json (the config goes beside it, to FILE.json); use e.g. model.pt");
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, t] : state_dict(run)) dict.insert(name, t.contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));  // torch.save's zip format
  write_file_atomic(path, std::string(bytes.data(), bytes.size()));
  write_file_atomic(export_metadata_path(path), export_metadata(run).dump(2) + "\n");
}

}  // namespace elbo::run
