#include "elbo/core/config.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace elbo {
namespace {

/// "data.modalities[2].name" -> "data.modalities[].name" (the schema name of a table array's key).
std::string schema_name(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    out += name[i];
    if (name[i] != '[') continue;
    size_t j = i + 1;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
    if (j > i + 1 && j < name.size() && name[j] == ']') i = j - 1;
  }
  return out;
}

const ConfigKey* find_key(const std::string& name) {
  const std::string key = schema_name(name);
  for (const auto& k : config_schema())
    if (k.name == key) return &k;
  return nullptr;
}

/// "data.modalities" for "data.modalities[].name"; "" for a plain key.
std::string table_array_of(const std::string& schema_key) {
  const auto at = schema_key.find("[]");
  return at == std::string::npos ? "" : schema_key.substr(0, at);
}

/// Whether some schema key belongs to the table array `array`.
bool is_table_array(const std::string& array) {
  for (const auto& k : config_schema())
    if (table_array_of(k.name) == array) return true;
  return false;
}

const char* type_name(const ConfigValue& v) {
  switch (v.index()) {
    case 0: return "an integer";
    case 1: return "a number";
    case 2: return "a boolean";
    case 3: return "a string";
    default: return "a list of integers";
  }
}

std::string format(const ConfigValue& v) {
  std::ostringstream out;
  if (auto i = std::get_if<int64_t>(&v)) out << *i;
  else if (auto d = std::get_if<double>(&v)) {
    out.precision(17);
    out << *d;
    std::string s = out.str();
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
  } else if (auto b = std::get_if<bool>(&v)) out << (*b ? "true" : "false");
  else if (auto s = std::get_if<std::string>(&v)) out << toml::value<std::string>(*s);
  else {
    const auto& list = std::get<std::vector<int64_t>>(v);
    out << "[";
    for (size_t i = 0; i < list.size(); ++i) out << (i ? ", " : "") << list[i];
    out << "]";
  }
  return out.str();
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// Converts a TOML node to a value of the key's type, or explains why not.
ConfigValue convert(const toml::node& node, const ConfigKey& key, const std::string& where) {
  const ConfigValue& like = key.default_value;
  auto wrong = [&](const char* got) -> ConfigValue {
    throw std::invalid_argument(detail::concat(where, "key '", key.name, "' must be ", type_name(like),
                                               " (got ", got, ")"));
  };
  switch (like.index()) {
    case 0:
      if (auto v = node.value_exact<int64_t>()) return *v;
      return wrong(node.is_floating_point() ? "a non-integer number" : "another type");
    case 1:
      if (auto v = node.value<double>(); v && (node.is_integer() || node.is_floating_point())) return *v;
      return wrong("another type");
    case 2:
      if (auto v = node.value_exact<bool>()) return *v;
      return wrong("another type");
    case 3:
      if (auto v = node.value_exact<std::string>()) return *v;
      return wrong("another type");
    default: {
      std::vector<int64_t> list;
      if (auto v = node.value_exact<int64_t>()) return std::vector<int64_t>{*v};
      const toml::array* array = node.as_array();
      if (!array) return wrong("another type");
      for (const auto& item : *array) {
        auto v = item.value_exact<int64_t>();
        if (!v) return wrong("a list with a non-integer entry");
        list.push_back(*v);
      }
      return list;
    }
  }
}

/// toml++ 3.3 (Debian 12) reaches undefined behaviour (TOML_UNREACHABLE in
/// is_non_ascii_horizontal_whitespace, e.g. for U+00A1..U+0499) when a non-ASCII
/// character appears where it records a bare key or value; found by fuzz/config_fuzzer.
/// TOML 1.0 allows non-ASCII text only in strings and comments, so anything else is
/// refused here, before the parser sees it.
void refuse_non_ascii_outside_strings(const std::string& text, const std::string& source) {
  const size_t n = text.size();
  size_t i = 0, line = 1;
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++line, ++i;
    } else if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const std::string close(text.compare(i, 3, std::string(3, c)) == 0 ? 3 : 1, c);
      for (i += close.size(); i < n;) {
        if (text[i] == '\n') {
          ++line;
          if (close.size() == 1) break;  // unterminated: the parser reports it
        }
        if (c == '"' && text[i] == '\\' && i + 1 < n) {
          if (text[i + 1] == '\n') ++line;
          i += 2;
        } else if (text.compare(i, close.size(), close) == 0) {
          i += close.size();
          break;
        } else {
          ++i;
        }
      }
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(c));
      ELBO_CHECK(static_cast<unsigned char>(c) < 0x80, source, ":", line, ": non-ASCII byte ", hex,
                 " outside a string or comment (TOML keys and non-string values are ASCII)");
      ++i;
    }
  }
}

std::string line_of(const toml::node& node, const std::string& source) {
  const auto& begin = node.source().begin;
  return detail::concat(source, ":", begin.line, ": ");
}

void load_table(Config& config, const toml::table& table, const std::string& prefix, const std::string& source) {
  for (const auto& [name, node] : table) {
    const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const toml::table* sub = node.as_table()) {
      load_table(config, *sub, key, source);
      continue;
    }
    if (is_table_array(key)) {
      const toml::array* tables = node.as_array();
      ELBO_CHECK(tables, line_of(node, source), "'", key, "' must be an array of tables ([[", key, "]])");
      for (const auto& item : *tables) {
        const toml::table* sub = item.as_table();
        ELBO_CHECK(sub, line_of(item, source), "'", key, "' must be an array of tables ([[", key, "]])");
        load_table(config, *sub, key + "[" + std::to_string(config.add_table(key)) + "]", source);
      }
      continue;
    }
    const ConfigKey* schema_key = find_key(key);
    const std::string where = line_of(node, source);
    if (!schema_key) {
      std::string hint = suggest_config_key(key);
      throw std::invalid_argument(detail::concat(where, "unknown key '", key, "'",
                                                 hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    config.set(key, convert(node, *schema_key, where), where);
  }
}

}  // namespace

Config::Config() {
  for (const auto& key : config_schema()) values_[key.name] = key.default_value;
}

Config Config::from_file(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(detail::concat("config: ", e.what()));
  }
  return from_toml(text, path);
}

Config Config::from_toml(const std::string& text, const std::string& source) {
  refuse_non_ascii_outside_strings(text, source);
  Config config;
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw std::invalid_argument(detail::concat(source, ":", e.source().begin.line, ":", e.source().begin.column,
                                               ": TOML syntax error: ", e.description()));
  }
  load_table(config, table, "", source);
  return config;
}

void Config::set(const std::string& assignment) {
  const auto eq = assignment.find('=');
  ELBO_CHECK(eq != std::string::npos && eq > 0, "--set '", assignment, "': expected key=value, e.g. train.epochs=3");
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  const std::string key = trim(assignment.substr(0, eq));
  const std::string text = trim(assignment.substr(eq + 1));
  const ConfigKey* schema_key = find_key(key);
  const std::string where = "--set " + assignment + ": ";
  if (!schema_key) {
    std::string hint = suggest_config_key(key);
    throw std::invalid_argument(detail::concat(where, "unknown key '", key, "'",
                                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  // Parse the value as TOML; a bare word is taken as a string.
  refuse_non_ascii_outside_strings("v = " + text, "--set " + assignment);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", text}};
  }
  set(key, convert(*parsed.get("v"), *schema_key, where), where);
}

void Config::set(const std::string& key, const ConfigValue& value, const std::string& where) {
  const ConfigKey* schema_key = find_key(key);
  if (!schema_key) {
    std::string hint = suggest_config_key(key);
    throw std::invalid_argument(detail::concat(where, "unknown key '", key, "'",
                                               hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  if (const std::string array = table_array_of(schema_key->name); !array.empty()) {
    const auto open = key.find('[', array.size()), close = key.find(']', array.size());
    const std::string index = key.substr(open + 1, close - open - 1);
    ELBO_CHECK(!index.empty() && index.size() < 10 && std::stoll(index) < count(array), where, "key '", key, "': the config has ",
               count(array), " [[", array, "]] table", count(array) == 1 ? "" : "s",
               index.empty() ? " (name one by its index, e.g. " + array + "[0]" + schema_key->name.substr(array.size() + 2) + ")"
                             : " (indices from 0)");
  }
  ELBO_CHECK(value.index() == schema_key->default_value.index(), where, "key '", key, "' must be ",
             type_name(schema_key->default_value), " (got ", type_name(value), ")");
  auto check_range = [&](double v) {
    ELBO_CHECK(std::isfinite(v) && v >= schema_key->min && v <= schema_key->max, where, "key '", key,
               "' = ", v, " is out of range [", schema_key->min, ", ", schema_key->max, "]");
  };
  if (auto i = std::get_if<int64_t>(&value)) check_range(static_cast<double>(*i));
  if (auto d = std::get_if<double>(&value)) check_range(*d);
  if (auto list = std::get_if<std::vector<int64_t>>(&value)) {
    // A list may be empty only where its default is (e.g. "[] = same as another key") or where no layers mean
    // something: model.hidden = [] is a linear encoder and decoder (probabilistic PCA with a Gaussian likelihood).
    ELBO_CHECK(!list->empty() || std::get<std::vector<int64_t>>(schema_key->default_value).empty() ||
                   key == "model.hidden",
               where, "key '", key, "' must not be empty");
    for (int64_t v : *list) check_range(static_cast<double>(v));
  }
  if (auto s = std::get_if<std::string>(&value); s && !schema_key->choices.empty()) {
    const auto& c = schema_key->choices;
    if (std::find(c.begin(), c.end(), *s) == c.end()) {
      std::string valid;
      for (const auto& choice : c) valid += (valid.empty() ? "" : ", ") + choice;
      throw std::invalid_argument(detail::concat(where, "key '", key, "' = \"", *s, "\" is not one of: ", valid));
    }
  }
  values_[key] = value;
}

namespace {
template <typename T>
const T& get_typed(const std::map<std::string, ConfigValue>& values, const std::string& key) {
  auto it = values.find(key);
  ELBO_CHECK(it != values.end(), "elbo::Config: no key '", key, "'");
  const T* v = std::get_if<T>(&it->second);
  ELBO_CHECK(v, "elbo::Config: key '", key, "' is ", type_name(it->second));
  return *v;
}
}  // namespace

int64_t Config::count(const std::string& array) const {
  auto it = tables_.find(array);
  return it == tables_.end() ? 0 : it->second;
}

int64_t Config::add_table(const std::string& array) {
  ELBO_CHECK(is_table_array(array), "elbo::Config: '", array, "' is not a table array of the schema");
  const int64_t index = tables_[array]++;
  for (const auto& key : config_schema())
    if (table_array_of(key.name) == array)
      values_[array + "[" + std::to_string(index) + "]" + key.name.substr(array.size() + 2)] = key.default_value;
  return index;
}

int64_t Config::get_int(const std::string& key) const { return get_typed<int64_t>(values_, key); }
double Config::get_double(const std::string& key) const { return get_typed<double>(values_, key); }
bool Config::get_bool(const std::string& key) const { return get_typed<bool>(values_, key); }
const std::string& Config::get_string(const std::string& key) const { return get_typed<std::string>(values_, key); }
const std::vector<int64_t>& Config::get_ints(const std::string& key) const {
  return get_typed<std::vector<int64_t>>(values_, key);
}

std::string Config::to_toml() const {
  std::ostringstream out;
  std::string section;
  for (const auto& key : config_schema()) {
    if (!table_array_of(key.name).empty()) continue;
    const auto dot = key.name.find('.');
    const std::string s = key.name.substr(0, dot);
    if (s != section) {
      out << (section.empty() ? "" : "\n") << "[" << s << "]\n";
      section = s;
    }
    out << key.name.substr(dot + 1) << " = " << format(values_.at(key.name)) << "\n";
  }
  // Table arrays last: [[data.modalities]] after [train] still extends the [data] table.
  for (const auto& [array, n] : tables_)
    for (int64_t i = 0; i < n; ++i) {
      out << "\n[[" << array << "]]\n";
      const std::string prefix = array + "[" + std::to_string(i) + "]";
      for (const auto& key : config_schema())
        if (table_array_of(key.name) == array)
          out << key.name.substr(array.size() + 3) << " = " << format(values_.at(prefix + key.name.substr(array.size() + 2)))
              << "\n";
    }
  return out.str();
}

std::string suggest_config_key(const std::string& name) {
  if (name.size() > 64) return "";  // no key is that long; spares the quadratic edit distance
  std::string best;
  size_t best_distance = std::max<size_t>(3, name.size() / 3) + 1;
  const std::string leaf = name.substr(name.find('.') == std::string::npos ? 0 : name.find('.') + 1);
  for (const auto& key : config_schema()) {
    const std::string key_leaf = key.name.substr(key.name.find('.') + 1);
    size_t d = std::min(edit_distance(name, key.name), edit_distance(leaf, key_leaf) + 1);
    if (d < best_distance) {
      best_distance = d;
      best = key.name;
    }
  }
  return best;
}

std::string describe_config_schema() {
  std::ostringstream out;
  for (const auto& key : config_schema()) {
    out << "  " << key.name << " = " << format(key.default_value) << "\n      " << key.doc;
    if (!key.choices.empty()) {
      out << " (";
      for (size_t i = 0; i < key.choices.size(); ++i) out << (i ? " | " : "") << key.choices[i];
      out << ")";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace elbo
