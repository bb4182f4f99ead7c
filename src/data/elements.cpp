#include "elbo/data/elements.h"

#include "elbo/core/check.h"

#include <cctype>
#include <unordered_map>

namespace elbo::data {
namespace {

const std::vector<Element>& table() {
  static const std::vector<Element> elements = {
#include "element_table.inc"
  };
  return elements;
}

}  // namespace

const Element& element(int z) {
  ELBO_CHECK(z >= 1 && z <= kMaxAtomicNumber, "elbo::data::element: no element has atomic number ", z,
             " (the table holds 1..", kMaxAtomicNumber, ")");
  return table()[static_cast<size_t>(z - 1)];
}

int atomic_number(const std::string& symbol) {
  static const std::unordered_map<std::string, int> by_symbol = [] {
    std::unordered_map<std::string, int> m;
    for (const Element& e : table()) m.emplace(e.symbol, e.z);
    return m;
  }();
  const auto it = by_symbol.find(symbol);
  return it == by_symbol.end() ? 0 : it->second;
}

int atomic_number_of_label(const std::string& label) {
  if (label.empty() || !std::isalpha(static_cast<unsigned char>(label[0]))) return 0;
  std::string one(1, static_cast<char>(std::toupper(static_cast<unsigned char>(label[0]))));
  if (label.size() >= 2 && std::isalpha(static_cast<unsigned char>(label[1]))) {
    const std::string two = one + static_cast<char>(std::tolower(static_cast<unsigned char>(label[1])));
    if (const int z = atomic_number(two)) return z;
  }
  return atomic_number(one);
}

}  // namespace elbo::data
