#include "elbo/data/cif.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/elements.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <sstream>

namespace elbo::data {
namespace {

constexpr size_t kMaxOperations = 192;  // the largest space group order (Fm-3m in a centred cell)

struct Token {
  std::string text;
  int64_t line = 0;
  bool quoted = false;  // quoted or a text field: always a value
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

/// CIF 1.1 tokens: bare words, quoted strings (closed by the quote before whitespace or the end),
/// ;-delimited text fields, comments dropped.
std::vector<Token> tokenize(const std::string& text, const std::string& name) {
  std::vector<Token> tokens;
  const size_t n = text.size();
  size_t i = 0;
  int64_t line = 1;
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++line, ++i;
      continue;
    }
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == ';' && (i == 0 || text[i - 1] == '\n')) {  // text field: up to a line that starts with ';'
      const int64_t start_line = line;
      size_t end = i + 1;
      std::string value;
      for (;;) {
        const size_t newline = text.find('\n', end);
        if (newline == std::string::npos) {
          throw std::invalid_argument(detail::concat(name, ":", start_line, ": text field (;) is never closed"));
        }
        value += text.substr(end, newline + 1 - end);
        ++line;
        end = newline + 1;
        if (end < n && text[end] == ';') break;
      }
      if (!value.empty() && value.back() == '\n') value.pop_back();
      if (!value.empty() && value.back() == '\r') value.pop_back();
      tokens.push_back({value, start_line, true});
      i = end + 1;
      continue;
    }
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      for (;; ++end) {
        if (end >= n || text[end] == '\n')
          throw std::invalid_argument(detail::concat(name, ":", line, ": quoted value ", c, " is never closed"));
        if (text[end] == c && (end + 1 >= n || is_space(text[end + 1]))) break;
      }
      std::string value = text.substr(i + 1, end - i - 1);
      if (!value.empty() && value.back() == '\r') value.pop_back();
      tokens.push_back({value, line, true});
      i = end + 1;
      continue;
    }
    size_t end = i;
    while (end < n && !is_space(text[end])) ++end;
    tokens.push_back({text.substr(i, end - i), line, false});
    i = end;
  }
  return tokens;
}

/// One data block: every tag's values (one for a single item, a column for a loop).
struct Block {
  std::string name;
  int64_t line = 0;
  std::map<std::string, std::vector<Token>> columns;
  std::map<std::string, int64_t> tag_lines;
  std::map<std::string, int> loop_of;  // tag -> loop index (-1: single item)

  const std::vector<Token>* column(const std::string& tag) const {
    const auto it = columns.find(tag);
    return it == columns.end() ? nullptr : &it->second;
  }
};

/// Tags in lower case with '.' read as '_' (_cell.length_a is _cell_length_a).
std::string normalize_tag(const std::string& tag) {
  std::string t = lower(tag);
  std::replace(t.begin() + 1, t.end(), '.', '_');
  return t;
}

bool is_reserved(const Token& t) {
  if (t.quoted) return false;
  const std::string s = lower(t.text);
  return starts_with(s, "data_") || s == "loop_" || starts_with(s, "save_") || s == "global_" || s == "stop_";
}

bool is_tag(const Token& t) { return !t.quoted && !t.text.empty() && t.text[0] == '_'; }

std::vector<Block> parse_blocks(const std::vector<Token>& tokens, const std::string& name) {
  std::vector<Block> blocks;
  int loops = 0;
  const auto add = [&](const Token& tag, std::vector<Token> values, int loop) {
    if (blocks.empty())
      throw std::invalid_argument(detail::concat(name, ":", tag.line, ": ", tag.text, " before the first data_ block"));
    Block& b = blocks.back();
    const std::string key = normalize_tag(tag.text);
    if (b.columns.count(key))
      throw std::invalid_argument(detail::concat(name, ":", tag.line, ": ", tag.text, " is repeated in data_", b.name,
                                                 " (first at line ", b.tag_lines[key], ")"));
    b.columns[key] = std::move(values);
    b.tag_lines[key] = tag.line;
    b.loop_of[key] = loop;
  };
  size_t i = 0;
  while (i < tokens.size()) {
    const Token& t = tokens[i];
    const std::string low = t.quoted ? std::string() : lower(t.text);
    if (!t.quoted && starts_with(low, "data_")) {
      blocks.push_back({t.text.substr(5), t.line, {}, {}, {}});
      ++i;
    } else if (!t.quoted && (starts_with(low, "save_") || low == "global_")) {
      ++i;  // save frames and global blocks hold no crystal: their tags are read into the block around them
    } else if (!t.quoted && low == "loop_") {
      size_t j = i + 1;
      std::vector<Token> tags;
      while (j < tokens.size() && is_tag(tokens[j])) tags.push_back(tokens[j++]);
      if (tags.empty()) throw std::invalid_argument(detail::concat(name, ":", t.line, ": loop_ without tags"));
      std::vector<std::vector<Token>> values(tags.size());
      size_t count = 0;
      while (j < tokens.size() && !is_tag(tokens[j]) && !is_reserved(tokens[j])) {
        values[count % tags.size()].push_back(tokens[j++]);
        ++count;
      }
      if (count % tags.size() != 0)
        throw std::invalid_argument(detail::concat(name, ":", t.line, ": loop_ with ", tags.size(), " tags (",
                                                   tags.front().text, " ...) has ", count,
                                                   " values, not a multiple of ", tags.size(), " (a row is cut)"));
      const int loop = loops++;
      for (size_t k = 0; k < tags.size(); ++k) add(tags[k], std::move(values[k]), loop);
      i = j;
    } else if (is_tag(t)) {
      if (i + 1 >= tokens.size() || is_tag(tokens[i + 1]) || is_reserved(tokens[i + 1]))
        throw std::invalid_argument(detail::concat(name, ":", t.line, ": ", t.text, " has no value"));
      add(t, {tokens[i + 1]}, -1);
      i += 2;
    } else {
      throw std::invalid_argument(detail::concat(name, ":", t.line, ": value '", t.text.substr(0, 40),
                                                 "' without a tag"));
    }
  }
  return blocks;
}

/// A CIF number: an optional standard uncertainty in parentheses, 5.640(3), is dropped.
double number(const Token& t, const std::string& tag, const std::string& name) {
  std::string s = t.text;
  const size_t paren = s.find('(');
  if (paren != std::string::npos && paren > 0 && s.back() == ')' &&
      std::all_of(s.begin() + static_cast<std::ptrdiff_t>(paren) + 1, s.end() - 1,
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    s = s.substr(0, paren);
  if (s == "?" || s == ".")
    throw std::invalid_argument(detail::concat(name, ":", t.line, ": ", tag, " is unknown ('", s, "')"));
  char* end = nullptr;
  const double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
    throw std::invalid_argument(detail::concat(name, ":", t.line, ": ", tag, " = '", t.text.substr(0, 40),
                                               "' is not a number"));
  return v;
}

/// One symmetry operation: f -> rotation f + translation.
struct Operation {
  std::array<std::array<double, 3>, 3> rotation{};
  Vec3 translation{};
};

/// Parses "x, -y, z+1/2", "-x+y, 1/2+z, 0.25-x" (signed terms: x, y, z with an optional
/// coefficient, numbers and fractions).
Operation parse_operation(const Token& t, const std::string& name) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument(detail::concat(name, ":", t.line, ": symmetry operation '", t.text.substr(0, 60),
                                               "': ", why));
  };
  std::string s;
  for (char c : t.text)
    if (!is_space(c)) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t k = 0; k <= s.size(); ++k)
    if (k == s.size() || s[k] == ',') parts.push_back(s.substr(start, k - start)), start = k + 1;
  if (parts.size() != 3) fail("needs three comma-separated components");
  Operation op;
  for (int row = 0; row < 3; ++row) {
    const std::string& p = parts[static_cast<size_t>(row)];
    if (p.empty()) fail("an empty component");
    size_t k = 0;
    while (k < p.size()) {
      double sign = 1;
      if (p[k] == '+' || p[k] == '-') sign = p[k++] == '-' ? -1 : 1;
      double value = 1;
      bool has_number = false;
      const size_t begin = k;
      while (k < p.size() && (std::isdigit(static_cast<unsigned char>(p[k])) || p[k] == '.')) ++k;
      if (k > begin) {
        char* end = nullptr;
        const std::string digits = p.substr(begin, k - begin);
        value = std::strtod(digits.c_str(), &end);
        if (end != digits.c_str() + digits.size()) fail("'" + digits + "' is not a number");
        has_number = true;
        if (k < p.size() && p[k] == '/') {
          const size_t d0 = ++k;
          while (k < p.size() && std::isdigit(static_cast<unsigned char>(p[k]))) ++k;
          if (k == d0) fail("a fraction without a denominator");
          const double denominator = std::strtod(p.substr(d0, k - d0).c_str(), nullptr);
          if (denominator == 0) fail("division by zero");
          value /= denominator;
        }
        if (k < p.size() && p[k] == '*') ++k;
      }
      if (k < p.size() && (p[k] == 'x' || p[k] == 'y' || p[k] == 'z')) {
        op.rotation[static_cast<size_t>(row)][static_cast<size_t>(p[k] - 'x')] += sign * value;
        ++k;
      } else if (has_number) {
        op.translation[static_cast<size_t>(row)] += sign * value;
      } else {
        fail(k < p.size() ? std::string("unexpected '") + p[k] + "'" : "a sign without a term");
      }
    }
  }
  return op;
}

/// The operations of a block (identity when it lists none and names no space group but P1).
std::vector<Operation> operations(const Block& b, const std::string& name) {
  for (const char* tag : {"_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz"}) {
    const std::vector<Token>* ops = b.column(tag);
    if (!ops) continue;
    if (ops->size() > kMaxOperations)
      throw std::invalid_argument(detail::concat(name, ":", ops->front().line, ": ", ops->size(),
                                                 " symmetry operations, more than any space group has (",
                                                 kMaxOperations, ")"));
    std::vector<Operation> out;
    for (const Token& t : *ops) out.push_back(parse_operation(t, name));
    return out;
  }
  for (const char* tag : {"_symmetry_space_group_name_h-m", "_space_group_name_h-m_alt",
                          "_symmetry_int_tables_number", "_space_group_it_number"}) {
    const std::vector<Token>* v = b.column(tag);
    if (!v || v->empty()) continue;
    std::string group;
    for (char c : v->front().text)
      if (!is_space(c)) group += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (group != "p1" && group != "1" && group != "?" && group != ".")
      throw std::invalid_argument(detail::concat(
          name, ":", v->front().line, ": data_", b.name, " names space group '", v->front().text,
          "' but lists no symmetry operations (_symmetry_equiv_pos_as_xyz or _space_group_symop_operation_xyz); "
          "write the CIF in P1 or with its operations"));
  }
  Operation identity;
  for (int k = 0; k < 3; ++k) identity.rotation[static_cast<size_t>(k)][static_cast<size_t>(k)] = 1;
  return {identity};
}

std::string format_number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.8f", v == 0 ? 0.0 : v);  // no "-0.00000000"
  return buffer;
}

Structure read_block(const Block& b, const std::string& name, const CifOptions& options,
                     std::vector<std::string>& notes) {
  const std::string where = detail::concat(name, ":", b.line, ": data_", b.name);
  const auto single = [&](const std::string& tag) -> const Token& {
    const std::vector<Token>* v = b.column(tag);
    if (!v || v->empty()) throw std::invalid_argument(detail::concat(where, ": missing ", tag));
    if (v->size() != 1)
      throw std::invalid_argument(detail::concat(name, ":", v->front().line, ": ", tag, " has ", v->size(),
                                                 " values, expected one"));
    return v->front();
  };
  LatticeParameters p;
  double* cell[6] = {&p.a, &p.b, &p.c, &p.alpha, &p.beta, &p.gamma};
  const char* cell_tags[6] = {"_cell_length_a", "_cell_length_b", "_cell_length_c",
                              "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
  int64_t cell_line = 0;
  for (int k = 0; k < 6; ++k) {
    const Token& t = single(cell_tags[k]);
    *cell[k] = number(t, cell_tags[k], name);
    cell_line = std::max(cell_line, t.line);
  }
  Structure s;
  s.name = b.name;
  s.source = detail::concat(name, ":", b.line);
  try {
    s.lattice = lattice_from_parameters(p);
    const double v = volume(s.lattice);
    ELBO_CHECK(v > 1e-6 * p.a * p.b * p.c, "volume ", v, " A^3");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(detail::concat(
        name, ":", cell_line, ": data_", b.name, ": degenerate cell (zero volume): a = ", p.a, ", b = ", p.b,
        ", c = ", p.c, ", alpha = ", p.alpha, ", beta = ", p.beta, ", gamma = ", p.gamma,
        " (lengths must be positive and the angles span a volume)"));
  }

  const char* coordinate_tags[3] = {"_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"};
  std::array<const std::vector<Token>*, 3> coordinates{};
  for (int k = 0; k < 3; ++k) {
    coordinates[static_cast<size_t>(k)] = b.column(coordinate_tags[k]);
    if (!coordinates[static_cast<size_t>(k)]) {
      const bool cartesian_only = b.column("_atom_site_cartn_x") != nullptr;
      throw std::invalid_argument(detail::concat(where, ": missing ", coordinate_tags[k],
                                                 cartesian_only ? " (Cartesian _atom_site_Cartn_* are not read)" : ""));
    }
  }
  const std::vector<Token>* symbols = b.column("_atom_site_type_symbol");
  const char* symbol_tag = "_atom_site_type_symbol";
  if (!symbols) symbols = b.column("_atom_site_label"), symbol_tag = "_atom_site_label";
  if (!symbols) throw std::invalid_argument(detail::concat(where, ": missing _atom_site_type_symbol and _atom_site_label"));
  const std::vector<Token>* occupancy = b.column("_atom_site_occupancy");
  const size_t listed = coordinates[0]->size();
  for (const std::vector<Token>* column : {coordinates[1], coordinates[2], symbols, occupancy})
    if (column && column->size() != listed)
      throw std::invalid_argument(detail::concat(where, ": the _atom_site columns have different lengths (",
                                                 listed, " and ", column->size(), ")"));
  if (listed == 0) throw std::invalid_argument(detail::concat(where, ": no atoms"));

  const std::vector<Operation> ops = operations(b, name);
  const MinimumImage image(s.lattice);
  const Vec3 spacings = plane_spacings(s.lattice);
  // Far apart along one axis (|w_k| d_k bounds every image's distance): no minimum-image search.
  const auto near = [&](const Vec3& g, const Vec3& h) {
    Vec3 w{};
    for (size_t k = 0; k < 3; ++k) {
      w[k] = g[k] - h[k];
      w[k] -= std::round(w[k]);
      if (std::abs(w[k]) * spacings[k] >= options.merge_tolerance) return false;
    }
    return image.distance(w) < options.merge_tolerance;
  };
  std::vector<int64_t> atom_lines;
  int64_t wrapped = 0;
  std::string first_wrapped;
  for (size_t i = 0; i < listed; ++i) {
    const Token& symbol = (*symbols)[i];
    const int z = atomic_number_of_label(symbol.text);
    if (z == 0)
      throw std::invalid_argument(detail::concat(name, ":", symbol.line, ": unknown element symbol '",
                                                 symbol.text.substr(0, 40), "' (", symbol_tag, ")"));
    if (occupancy) {
      const Token& t = (*occupancy)[i];
      if (!(t.text == "?" || t.text == ".")) {
        const double occ = number(t, "_atom_site_occupancy", name);
        if (std::abs(occ - 1) > 1e-3)
          throw std::invalid_argument(detail::concat(name, ":", t.line, ": _atom_site_occupancy = ", t.text,
                                                     " for ", symbol.text,
                                                     ": partly occupied (disordered) sites are not supported"));
      }
    }
    Vec3 f{};
    for (size_t k = 0; k < 3; ++k) {
      const Token& t = (*coordinates[k])[i];
      f[k] = number(t, coordinate_tags[k], name);
      if (f[k] < 0 || f[k] >= 1) {
        if (!options.wrap_coordinates)
          throw std::invalid_argument(detail::concat(
              name, ":", t.line, ": ", coordinate_tags[k], " = ", t.text, " of ", symbol.text,
              " is outside [0, 1) (wrapping into the cell is turned off)"));
        if (wrapped++ == 0) first_wrapped = detail::concat(name, ":", t.line, ": ", coordinate_tags[k], " = ", t.text);
      }
    }
    for (const Operation& op : ops) {
      Vec3 g{};
      for (size_t r = 0; r < 3; ++r)
        g[r] = op.rotation[r][0] * f[0] + op.rotation[r][1] * f[1] + op.rotation[r][2] * f[2] + op.translation[r];
      g = wrap_unit(g);
      bool merged = false;
      for (size_t j = 0; j < s.frac.size(); ++j) {
        const Vec3& h = s.frac[j];
        if (!near(g, h)) continue;
        if (s.species[j] != z)
          throw std::invalid_argument(detail::concat(
              name, ":", symbol.line, ": ", symbol.text, " at (", f[0], ", ", f[1], ", ", f[2],
              ") or one of its symmetry images lands on the ", element(s.species[j]).symbol, " of line ",
              atom_lines[j], " (closer than ", options.merge_tolerance, " A): disordered or overlapping sites"));
        merged = true;
        break;
      }
      if (merged) continue;
      s.species.push_back(z);
      s.frac.push_back(g);
      atom_lines.push_back(symbol.line);
      if (options.max_atoms > 0 && s.size() > options.max_atoms)
        throw std::invalid_argument(detail::concat(where, ": more than ", options.max_atoms,
                                                   " atoms in the cell after applying its ", ops.size(),
                                                   " symmetry operations (max_atoms = ", options.max_atoms,
                                                   ", data.max_atoms)"));
    }
  }
  if (wrapped > 0)
    notes.push_back(detail::concat(first_wrapped, " is outside [0, 1): ", wrapped,
                                   wrapped == 1 ? " coordinate" : " coordinates", " of data_", b.name,
                                   " wrapped into the cell"));
  return s;
}

}  // namespace

CifData read_cif(const std::string& path, const CifOptions& options) {
  return parse_cif(read_file(path), path, options);
}

CifData parse_cif(const std::string& text, const std::string& name, const CifOptions& options) {
  ELBO_CHECK(options.merge_tolerance >= 0 && std::isfinite(options.merge_tolerance),
             "elbo::data::parse_cif: merge_tolerance must be finite and non-negative");
  const std::vector<Block> blocks = parse_blocks(tokenize(text, name), name);
  CifData data;
  for (const Block& b : blocks) {
    bool crystal = false;
    for (const auto& [tag, values] : b.columns)
      if (starts_with(tag, "_cell_length_") || starts_with(tag, "_atom_site_fract_")) crystal = true;
    if (crystal) data.structures.push_back(read_block(b, name, options, data.notes));
  }
  if (data.structures.empty())
    throw std::invalid_argument(detail::concat(name, ": no crystal (no data_ block with _cell_length_a and "
                                                     "_atom_site_fract_x)"));
  return data;
}

std::string format_cif(const Structure& s) {
  ELBO_CHECK(!s.species.empty() && s.frac.size() == s.species.size(),
             "elbo::data::format_cif: ", s.name, " has no atoms or mismatched positions");
  const LatticeParameters p = lattice_parameters(s.lattice);
  std::string block = s.name;
  for (char& c : block)
    if (is_space(c) || !std::isprint(static_cast<unsigned char>(c))) c = '_';
  if (block.empty()) block = formula(s, true);
  std::map<int, int64_t> counts;
  for (int z : s.species) ++counts[z];
  int64_t units = 0;
  for (const auto& entry : counts) units = std::gcd(units, entry.second);
  // _chemical_formula_sum lists every count, "Na4 Cl4", in formula()'s order.
  std::string sum;
  {
    const std::string compact = formula(s, false);
    for (size_t i = 0; i < compact.size(); ++i) {
      const char c = compact[i];
      if (std::isupper(static_cast<unsigned char>(c)) && i > 0) {
        if (!std::isdigit(static_cast<unsigned char>(compact[i - 1]))) sum += '1';
        sum += ' ';
      }
      sum += c;
    }
    if (!sum.empty() && !std::isdigit(static_cast<unsigned char>(sum.back()))) sum += '1';
  }
  std::ostringstream out;
  out << "# generated by elbo\n"
      << "data_" << block << "\n"
      << "_symmetry_space_group_name_H-M   'P 1'\n"
      << "_cell_length_a   " << format_number(p.a) << "\n"
      << "_cell_length_b   " << format_number(p.b) << "\n"
      << "_cell_length_c   " << format_number(p.c) << "\n"
      << "_cell_angle_alpha   " << format_number(p.alpha) << "\n"
      << "_cell_angle_beta   " << format_number(p.beta) << "\n"
      << "_cell_angle_gamma   " << format_number(p.gamma) << "\n"
      << "_symmetry_Int_Tables_number   1\n"
      << "_chemical_formula_structural   " << formula(s, true) << "\n"
      << "_chemical_formula_sum   '" << sum << "'\n"
      << "_cell_volume   " << format_number(volume(s.lattice)) << "\n"
      << "_cell_formula_units_Z   " << units << "\n"
      << "loop_\n _symmetry_equiv_pos_site_id\n _symmetry_equiv_pos_as_xyz\n  1  'x, y, z'\n"
      << "loop_\n _atom_site_type_symbol\n _atom_site_label\n _atom_site_symmetry_multiplicity\n"
      << " _atom_site_fract_x\n _atom_site_fract_y\n _atom_site_fract_z\n _atom_site_occupancy\n";
  for (size_t i = 0; i < s.species.size(); ++i) {
    const char* symbol = element(s.species[i]).symbol;
    const Vec3 f = wrap_unit(s.frac[i]);
    out << "  " << symbol << "  " << symbol << i << "  1  " << format_number(f[0]) << "  " << format_number(f[1])
        << "  " << format_number(f[2]) << "  1\n";
  }
  return out.str();
}

std::string format_poscar(const Structure& s) {
  ELBO_CHECK(!s.species.empty() && s.frac.size() == s.species.size(),
             "elbo::data::format_poscar: ", s.name, " has no atoms or mismatched positions");
  std::vector<int> order;  // species in order of first appearance
  for (int z : s.species)
    if (std::find(order.begin(), order.end(), z) == order.end()) order.push_back(z);
  std::string comment = s.name.empty() ? formula(s, false) : s.name;
  std::replace(comment.begin(), comment.end(), '\n', ' ');
  std::ostringstream out;
  char buffer[128];
  out << comment << "\n1.0\n";
  for (const Vec3& row : s.lattice) {
    std::snprintf(buffer, sizeof buffer, "  %20.12f  %20.12f  %20.12f\n", row[0], row[1], row[2]);
    out << buffer;
  }
  for (int z : order) out << " " << element(z).symbol;
  out << "\n";
  for (int z : order) out << " " << std::count(s.species.begin(), s.species.end(), z);
  out << "\ndirect\n";
  for (int z : order)
    for (size_t i = 0; i < s.species.size(); ++i) {
      if (s.species[i] != z) continue;
      const Vec3 f = wrap_unit(s.frac[i]);
      std::snprintf(buffer, sizeof buffer, "  %.12f  %.12f  %.12f %s\n", f[0], f[1], f[2], element(z).symbol);
      out << buffer;
    }
  return out.str();
}

}  // namespace elbo::data
