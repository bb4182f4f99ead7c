#include "elbo/data/crystal_json.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/data/elements.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace elbo::data {
namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& why) {
  throw std::invalid_argument(where + ": " + why);
}

/// ASE's {"__ndarray__": [shape, dtype, flat]} and {"array": ...} as nested lists; other values as they are.
Json nested(const Json& v) {
  if (v.is_object() && v.contains("array")) return nested(v.at("array"));
  if (!(v.is_object() && v.contains("__ndarray__"))) return v;
  const Json& a = v.at("__ndarray__");
  if (!a.is_array() || a.size() != 3 || !a[0].is_array() || !a[2].is_array())
    throw std::invalid_argument("__ndarray__ is not [shape, dtype, values]");
  std::vector<size_t> shape;
  size_t total = 1;
  for (const Json& d : a[0]) {
    const auto n = d.get<int64_t>();
    if (n < 0 || n > (1 << 24)) throw std::invalid_argument("__ndarray__ has a bad shape");
    shape.push_back(static_cast<size_t>(n));
    total *= static_cast<size_t>(n);
  }
  if (shape.empty() || shape.size() > 2 || total != a[2].size())
    throw std::invalid_argument("__ndarray__: shape and values disagree (or more than 2 dimensions)");
  if (shape.size() == 1) return a[2];
  Json out = Json::array();
  for (size_t i = 0; i < shape[0]; ++i) {
    Json row = Json::array();
    for (size_t j = 0; j < shape[1]; ++j) row.push_back(a[2][i * shape[1] + j]);
    out.push_back(std::move(row));
  }
  return out;
}

double finite_number(const Json& v) {
  if (!v.is_number()) throw std::invalid_argument("expected a number, got " + v.dump().substr(0, 40));
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw std::invalid_argument("a number is not finite");
  return x;
}

Vec3 vec3(const Json& v) {
  const Json n = nested(v);
  if (!n.is_array() || n.size() != 3) throw std::invalid_argument("expected 3 numbers, got " + n.dump().substr(0, 60));
  return {finite_number(n[0]), finite_number(n[1]), finite_number(n[2])};
}

std::vector<Vec3> rows(const Json& v) {
  const Json n = nested(v);
  if (!n.is_array()) throw std::invalid_argument("expected a list of rows");
  std::vector<Vec3> out;
  for (const Json& r : n) out.push_back(vec3(r));
  return out;
}

Mat3 matrix3(const Json& v) {
  const std::vector<Vec3> r = rows(v);
  if (r.size() != 3) throw std::invalid_argument("the lattice has " + std::to_string(r.size()) + " rows, expected 3");
  const Mat3 m{r[0], r[1], r[2]};
  const double scale = norm(m[0]) * norm(m[1]) * norm(m[2]);
  if (!(volume(m) > 1e-6 * scale)) throw std::invalid_argument("degenerate cell (zero volume)");
  return m;
}

/// One pymatgen Structure dict (also a StructureNL's, whose lattice and sites sit at the top).
Structure pymatgen_structure(const Json& d, const std::string& where) {
  Structure s;
  s.source = where;
  try {
    const Json& lattice = d.at("lattice");
    s.lattice = matrix3(lattice.is_object() ? lattice.at("matrix") : lattice);
    const Json& sites = d.at("sites");
    if (!sites.is_array() || sites.empty()) throw std::invalid_argument("no sites");
    for (size_t i = 0; i < sites.size(); ++i) {
      const Json& site = sites[i];
      const std::string at = "site " + std::to_string(i) + ": ";
      const Json& species = site.at("species");
      if (!species.is_array() || species.size() != 1)
        throw std::invalid_argument(at + std::to_string(species.size()) +
                                    " species on one site (disordered sites are not supported)");
      const std::string symbol = species[0].at("element").get<std::string>();
      const int z = atomic_number_of_label(symbol);
      if (z == 0) throw std::invalid_argument(at + "unknown element symbol '" + symbol.substr(0, 40) + "'");
      if (species[0].contains("occu") && std::abs(finite_number(species[0].at("occu")) - 1) > 1e-3)
        throw std::invalid_argument(at + "occupancy " + species[0].at("occu").dump() +
                                    " (partly occupied sites are not supported)");
      s.species.push_back(z);
      s.frac.push_back(wrap_unit(vec3(site.at("abc"))));
    }
  } catch (const std::invalid_argument& e) {
    refuse(where, e.what());
  } catch (const nlohmann::json::exception& e) {
    refuse(where, std::string("not a pymatgen Structure: ") + e.what());
  }
  return s;
}

Json parse_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based; name the line too.
    const size_t at = std::min(text.size(), static_cast<size_t>(e.byte > 0 ? e.byte - 1 : 0));
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    throw std::invalid_argument(detail::concat(path, ":", line, ": not valid JSON (", e.what(), ")"));
  }
}

std::string extension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace

std::vector<Structure> pymatgen_structures(const Json& json, const std::string& name) {
  std::vector<Structure> out;
  if (json.is_object()) {
    out.push_back(pymatgen_structure(json, name));
    out.back().name = name;
    return out;
  }
  if (!json.is_array()) refuse(name, "expected a pymatgen Structure dict or a list of them");
  for (size_t i = 0; i < json.size(); ++i) {
    const Json& entry = json[i];
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) refuse(where, "not an object");
    const bool snl = entry.contains("snl");
    Structure s = pymatgen_structure(snl ? entry.at("snl") : entry, where);
    s.name = "structure" + std::to_string(i + 1);
    if (entry.contains("tags") && entry.at("tags").is_object() && entry.at("tags").contains("aflow") &&
        entry.at("tags").at("aflow").is_string())
      s.name = entry.at("tags").at("aflow").get<std::string>();
    out.push_back(std::move(s));
  }
  if (out.empty()) refuse(name, "no structures");
  return out;
}

std::vector<Structure> read_pymatgen_json(const std::string& path) { return pymatgen_structures(parse_json_file(path), path); }

std::vector<Structure> ase_structures(const Json& json, const std::string& name) {
  if (!json.is_object()) refuse(name, "expected an ASE database object {\"1\": {...}, \"ids\": [...]}");
  std::vector<std::string> keys;
  if (json.contains("ids") && json.at("ids").is_array()) {
    for (const Json& id : json.at("ids")) keys.push_back(id.is_string() ? id.get<std::string>() : id.dump());
  } else {
    for (const auto& item : json.items())
      if (!item.key().empty() && std::all_of(item.key().begin(), item.key().end(),
                                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        keys.push_back(item.key());
    std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
  }
  std::vector<Structure> out;
  for (const std::string& key : keys) {
    const std::string where = name + "[\"" + key.substr(0, 20) + "\"]";
    if (!json.contains(key) || !json.at(key).is_object()) refuse(where, "listed in ids but missing");
    const Json& row = json.at(key);
    Structure s;
    s.source = where;
    s.name = "id " + key;
    try {
      if (row.contains("key_value_pairs") && row.at("key_value_pairs").is_object() &&
          row.at("key_value_pairs").contains("name") && row.at("key_value_pairs").at("name").is_string())
        s.name = row.at("key_value_pairs").at("name").get<std::string>();
      if (row.contains("pbc")) {
        const Json pbc = nested(row.at("pbc"));
        if (!pbc.is_array() || pbc.size() != 3 ||
            !std::all_of(pbc.begin(), pbc.end(), [](const Json& p) { return p.is_boolean() ? p.get<bool>() : p == 1; }))
          throw std::invalid_argument("not periodic in all three directions (pbc " + pbc.dump() + ")");
      }
      s.lattice = matrix3(row.at("cell"));
      const Json numbers = nested(row.at("numbers"));
      const std::vector<Vec3> positions = rows(row.at("positions"));
      if (!numbers.is_array() || numbers.size() != positions.size() || numbers.empty())
        throw std::invalid_argument("numbers and positions differ in length or are empty");
      const Mat3 inv = inverse(s.lattice);
      for (size_t i = 0; i < positions.size(); ++i) {
        const double z = finite_number(numbers[i]);
        if (z != std::floor(z) || z < 1 || z > kMaxAtomicNumber)
          throw std::invalid_argument("atom " + std::to_string(i) + ": atomic number " + numbers[i].dump() +
                                      " is not an element (1.." + std::to_string(kMaxAtomicNumber) + ")");
        s.species.push_back(static_cast<int>(z));
        s.frac.push_back(wrap_unit(cartesian(inv, positions[i])));
      }
    } catch (const std::invalid_argument& e) {
      refuse(where, e.what());
    } catch (const nlohmann::json::exception& e) {
      refuse(where, std::string("not an ASE row: ") + e.what());
    }
    out.push_back(std::move(s));
  }
  if (out.empty()) refuse(name, "no structures (no \"ids\" and no numbered rows)");
  return out;
}

std::vector<Structure> read_ase_json(const std::string& path) { return ase_structures(parse_json_file(path), path); }

std::vector<Structure> read_structures(const std::string& path, const CifOptions& options,
                                       std::vector<std::string>* notes) {
  const std::string ext = extension(path);
  std::vector<Structure> out;
  bool json = ext == "json";
  if (ext != "json" && ext != "cif") {
    const std::string text = read_file(path);
    const auto first = std::find_if(text.begin(), text.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
    json = first != text.end() && (*first == '{' || *first == '[');
  }
  if (!json) {
    CifData data = read_cif(path, options);
    if (notes) notes->insert(notes->end(), data.notes.begin(), data.notes.end());
    out = std::move(data.structures);
  } else {
    const Json j = parse_json_file(path);
    const bool pymatgen = j.is_array() || (j.is_object() && j.contains("sites"));
    out = pymatgen ? pymatgen_structures(j, path) : ase_structures(j, path);
    for (const Structure& s : out)
      ELBO_CHECK(options.max_atoms <= 0 || s.size() <= options.max_atoms, s.source, ": ", s.name, " has ", s.size(),
                 " atoms, more than max_atoms = ", options.max_atoms, " (data.max_atoms)");
  }
  return out;
}

}  // namespace elbo::data
