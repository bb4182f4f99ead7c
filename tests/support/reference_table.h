#pragma once
// Reader for tests/data/dist_reference.csv (written by
// scripts/generate_dist_reference.py): dist,quantity,q_params,p_params,x,value.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace elbo::test {

struct ReferenceRow {
  std::string dist, quantity;
  std::vector<double> q, p;
  double x = 0, value = 0;
};

inline std::vector<double> parse_numbers(const std::string& field) {
  std::istringstream in(field);
  std::vector<double> out;
  std::string token;
  while (in >> token) out.push_back(std::stod(token));  // stod reads inf/nan too
  return out;
}

/// Rows of the reference table for one distribution (and quantity, when given).
inline std::vector<ReferenceRow> reference_rows(const std::string& dist, const std::string& quantity = "") {
  const std::string path = std::string(ELBO_TEST_DATA_DIR) + "/dist_reference.csv";
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::vector<ReferenceRow> rows;
  std::string line;
  bool header = true;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
    if (fields.size() != 6) throw std::runtime_error("bad reference row: " + line);
    if (fields[0] != dist || (!quantity.empty() && fields[1] != quantity)) continue;
    ReferenceRow row{fields[0], fields[1], parse_numbers(fields[2]), parse_numbers(fields[3])};
    row.x = fields[4].empty() ? 0.0 : std::stod(fields[4]);
    row.value = std::stod(fields[5]);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace elbo::test
