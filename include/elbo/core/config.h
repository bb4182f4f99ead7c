#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace elbo {

/// A configuration value: integer, real, boolean, string or list of integers.
using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;

/// One documented configuration key, e.g. "train.epochs". A key of a table array, written in TOML as
/// `[[data.modalities]]` tables, has "[]" in its schema name ("data.modalities[].name") and is read
/// and set with the table's index ("data.modalities[0].name").
struct ConfigKey {
  std::string name;
  ConfigValue default_value;
  std::string doc;
  double min = -1e300;                ///< inclusive bounds for numbers (and list entries)
  double max = 1e300;
  std::vector<std::string> choices;   ///< allowed strings (empty = any)
};

/// The schema: every key a run understands, with default and documentation.
const std::vector<ConfigKey>& config_schema();

/// A run configuration: schema defaults overlaid with a TOML file and
/// `--set section.key=value` overrides. Every key is checked against the
/// schema (unknown keys get a "did you mean" suggestion), every value against
/// its type and range; errors are std::invalid_argument naming the file,
/// line and key.
class Config {
 public:
  /// The defaults (the default model: MLP VAE on Fashion-MNIST).
  Config();

  /// Defaults overlaid with the TOML file at `path`.
  static Config from_file(const std::string& path);
  /// Defaults overlaid with TOML text; `source` names it in errors.
  static Config from_toml(const std::string& text, const std::string& source = "<string>");

  /// Applies "section.key=value" (value parsed as TOML, bare words as strings).
  void set(const std::string& assignment);
  /// Sets one key after checking type and range.
  void set(const std::string& key, const ConfigValue& value, const std::string& where = "");

  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  const std::vector<int64_t>& get_ints(const std::string& key) const;

  /// Tables in the table array `array` (e.g. "data.modalities"; 0 when the config has none).
  int64_t count(const std::string& array) const;
  /// Appends a table to `array` with every key at its default; returns its index.
  int64_t add_table(const std::string& array);

  /// The resolved configuration as TOML (every key, grouped by section).
  std::string to_toml() const;

  /// Keys in schema order with their current values.
  const std::map<std::string, ConfigValue>& values() const { return values_; }

 private:
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, int64_t> tables_;  // table array -> tables
};

/// The closest schema key to `name` by edit distance, or "" if nothing is close.
std::string suggest_config_key(const std::string& name);

/// Human-readable listing of every key, default and documentation.
std::string describe_config_schema();

}  // namespace elbo
