#include "elbo/data/modality.h"

#include "elbo/core/check.h"

#include <algorithm>
#include <sstream>

namespace elbo::data {

torch::Tensor present(const torch::Tensor& mask, const Modality& m, int64_t rows) {
  if (!mask.defined()) return torch::ones({rows}, torch::kBool);
  return (mask.narrow(1, m.begin, m.width) > 0).any(1);
}

size_t find_modality(const std::vector<Modality>& modalities, const std::string& name, const std::string& what) {
  for (size_t i = 0; i < modalities.size(); ++i)
    if (modalities[i].name == name) return i;
  std::string names;
  for (const auto& m : modalities) names += (names.empty() ? "" : ", ") + m.name;
  ELBO_CHECK(false, what, ": '", name, "' names no modality",
             modalities.empty() ? std::string(" (this run's data has none)") : " (the modalities are: " + names + ")");
  return 0;
}

std::vector<size_t> find_modalities(const std::vector<Modality>& modalities, const std::string& names,
                                    const std::string& what) {
  std::vector<size_t> out;
  std::istringstream in(names);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.empty()) continue;
    const size_t i = find_modality(modalities, name, what);
    ELBO_CHECK(std::find(out.begin(), out.end(), i) == out.end(), what, ": '", name, "' is named twice");
    out.push_back(i);
  }
  ELBO_CHECK(!out.empty(), what, ": name at least one modality");
  return out;
}

}  // namespace elbo::data
