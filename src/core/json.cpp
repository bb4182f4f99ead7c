#include "elbo/core/json.h"

#include <cmath>
#include <fstream>
#include <iostream>

namespace elbo {

Json json_array(const torch::Tensor& t) {
  Json out = Json::array();
  if (!t.defined()) return out;
  const torch::Tensor c = t.detach().cpu().to(torch::kDouble).contiguous();
  if (c.dim() <= 1) {
    const double* p = c.data_ptr<double>();
    for (int64_t i = 0; i < c.numel(); ++i) out.push_back(p[i]);
  } else {
    for (int64_t i = 0; i < c.size(0); ++i) out.push_back(json_array(c[i]));
  }
  return out;
}

double json_number(const Json& object, const std::string& key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : std::nan("");
}

std::vector<Json> read_json_lines(const std::string& path) {
  std::vector<Json> values;
  std::ifstream in(path);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    Json value = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
      std::cerr << "elbo: warning: " << path << ":" << number << ": cut or garbled line skipped\n";
    else
      values.push_back(std::move(value));
  }
  return values;
}

}  // namespace elbo
