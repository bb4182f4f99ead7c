#include "elbo/data/csv.h"

#include "elbo/core/check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

namespace elbo::data {
namespace {

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

/// Splits one line; a cell in double quotes may hold the delimiter ("" is an escaped quote).
std::vector<std::string> split(std::string_view line, char delimiter) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        cell += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && trim(cell).empty()) {
      cell.clear();
      quoted = true;
    } else if (c == delimiter) {
      cells.emplace_back(trim(cell));
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells.emplace_back(trim(cell));
  return cells;
}

enum class Parse { ok, not_a_number, not_finite };

Parse parse_double(const std::string& cell, double& value) {
  std::string_view s = cell;
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return Parse::not_a_number;
  const char* end = s.data() + s.size();
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ptr != end) return Parse::not_a_number;
  if (ec == std::errc::result_out_of_range) {
    value = std::strtod(std::string(s).c_str(), nullptr);  // overflow -> HUGE_VAL, underflow -> ~0
  } else if (ec != std::errc()) {
    return Parse::not_a_number;
  }
#else
  const std::string copy(s);
  char* stop = nullptr;
  value = std::strtod(copy.c_str(), &stop);
  if (stop != copy.c_str() + copy.size()) return Parse::not_a_number;
#endif
  return std::isfinite(value) ? Parse::ok : Parse::not_finite;
}

bool parse_label(const std::string& cell, int64_t& label) {
  std::string_view s = cell;
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  const char* end = s.data() + s.size();
  long long v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec == std::errc() && ptr == end) {
    label = v;
    return true;
  }
  double d = 0;
  if (parse_double(cell, d) != Parse::ok || d != std::trunc(d) || std::abs(d) > 9.0e15) return false;
  label = static_cast<int64_t>(d);
  return true;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  ELBO_CHECK(options.header == "auto" || options.header == "yes" || options.header == "no",
             "elbo::data::read_csv: header must be \"auto\", \"yes\" or \"no\" (got \"",
             options.header, "\")");
  ELBO_CHECK(options.skip_rows >= 0, "elbo::data::read_csv: skip_rows must be >= 0 (got ",
             options.skip_rows, ")");
  ELBO_CHECK(options.delimiter != '"' && options.delimiter != '\n' && options.delimiter != '\r',
             "elbo::data::read_csv: invalid delimiter '", options.delimiter, "'");

  std::ifstream file(path, std::ios::binary);
  ELBO_CHECK(file, path, ": cannot open CSV file");
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();
  ELBO_CHECK(!trim(text).empty(), path, ": empty file");

  const auto is_missing = [&](const std::string& cell) {
    return cell.empty() ||
           std::find(options.missing.begin(), options.missing.end(), cell) != options.missing.end();
  };

  std::vector<float> x;
  std::vector<float> mask;  // filled lazily at the first missing cell
  std::vector<int64_t> y;
  std::vector<std::string> names;  // the header's cells, label column excluded
  int64_t columns = -1, label = -1, first_line = 0, rows = 0, line_no = 0;
  bool header_pending = options.header != "no";

  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line_no <= options.skip_rows || trim(line).empty()) continue;

    const auto cells = split(line, options.delimiter);
    const auto n = static_cast<int64_t>(cells.size());
    if (columns < 0) {
      columns = n;
      first_line = line_no;
      if (options.label_column) {
        label = *options.label_column < 0 ? columns + *options.label_column : *options.label_column;
        ELBO_CHECK(label >= 0 && label < columns, path, ": label_column ", *options.label_column,
                   " is out of range for ", columns, " columns (line ", line_no, ")");
        ELBO_CHECK(columns > 1, path, ": no feature columns besides the label column (line ",
                   line_no, ")");
      }
    } else {
      ELBO_CHECK(n == columns, path, ": line ", line_no, " has ", n, " cells, expected ", columns,
                 " (from line ", first_line, ")");
    }

    if (header_pending) {
      header_pending = false;
      bool header = options.header == "yes";
      double unused = 0;
      for (const auto& cell : cells) {
        if (!header && !is_missing(cell) && parse_double(cell, unused) == Parse::not_a_number) header = true;
      }
      if (header) {
        for (int64_t c = 0; c < n; ++c)
          if (c != label) names.push_back(cells[c]);
        continue;
      }
    }

    for (int64_t c = 0; c < n; ++c) {
      const auto& cell = cells[c];
      if (c == label) {
        int64_t value = 0;
        ELBO_CHECK(!is_missing(cell), path, ": line ", line_no, ", column ", c + 1,
                   ": the label is missing");
        ELBO_CHECK(parse_label(cell, value), path, ": line ", line_no, ", column ", c + 1,
                   ": label '", cell, "' is not an integer");
        y.push_back(value);
        continue;
      }
      if (is_missing(cell)) {
        if (mask.empty()) mask.assign(x.size(), 1.0f);
        mask.push_back(0.0f);
        x.push_back(0.0f);
        continue;
      }
      double value = 0;
      const Parse result = parse_double(cell, value);
      ELBO_CHECK(result != Parse::not_a_number, path, ": line ", line_no, ", column ", c + 1,
                 ": cannot parse '", cell, "' as a number");
      ELBO_CHECK(result == Parse::ok, path, ": line ", line_no, ", column ", c + 1, ": value '",
                 cell, "' is not finite (list it in missing if it marks a missing value)");
      ELBO_CHECK(std::abs(value) <= std::numeric_limits<float>::max(), path, ": line ", line_no,
                 ", column ", c + 1, ": value '", cell, "' is outside the float32 range");
      x.push_back(static_cast<float>(value));
      if (!mask.empty()) mask.push_back(1.0f);
    }
    ++rows;
  }
  ELBO_CHECK(rows > 0, path, ": no data rows");

  const int64_t features = columns - (label >= 0 ? 1 : 0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  Dataset data;
  data.x = torch::from_blob(x.data(), {rows, features}, f32).clone();
  if (!mask.empty()) data.mask = torch::from_blob(mask.data(), {rows, features}, f32).clone();
  if (label >= 0) {
    data.y = torch::from_blob(y.data(), {rows}, torch::TensorOptions().dtype(torch::kInt64)).clone();
  }
  data.feature_names = std::move(names);
  data.name = path;
  return data;
}

}  // namespace elbo::data

namespace elbo::data {

std::vector<int64_t> column_indices(const Dataset& table, const std::string& spec, const std::string& key) {
  const int64_t n = table.features();
  auto number = [&](std::string_view item) -> int64_t {  // a 1-based index, or -1 when item is not a number
    if (item.empty() || item.size() > 12 || item.find_first_not_of("0123456789") != std::string_view::npos) return -1;
    const int64_t i = std::stoll(std::string(item));
    ELBO_CHECK(i >= 1 && i <= n, key, ": column ", i, " is outside 1..", n, " (the features of '", table.name, "')");
    return i - 1;
  };
  std::vector<int64_t> out;
  std::istringstream in(spec);
  for (std::string cell; std::getline(in, cell, ',');) {
    const std::string_view item = trim(cell);
    if (item.empty()) continue;
    const auto named = std::find(table.feature_names.begin(), table.feature_names.end(), item);
    if (named != table.feature_names.end()) {
      out.push_back(named - table.feature_names.begin());
      continue;
    }
    if (const int64_t i = number(item); i >= 0) {
      out.push_back(i);
      continue;
    }
    const auto dash = item.find('-');
    if (dash != std::string_view::npos) {
      const int64_t a = number(trim(item.substr(0, dash))), b = number(trim(item.substr(dash + 1)));
      if (a >= 0 && b >= a) {
        for (int64_t i = a; i <= b; ++i) out.push_back(i);
        continue;
      }
    }
    std::string names;
    for (size_t k = 0; k < table.feature_names.size() && k < 8; ++k) names += (k ? ", " : "") + table.feature_names[k];
    ELBO_CHECK(false, key, ": '", item, "' is not a column of '", table.name, "' (",
               table.feature_names.empty() ? std::string("it has no header; give 1-based indices or ranges a-b")
                                           : "header: " + names + (table.feature_names.size() > 8 ? ", ..." : ""),
               ")");
  }
  return out;
}

}  // namespace elbo::data
