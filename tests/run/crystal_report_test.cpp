// The crystal section of the report: cell projections (geometry, size, one disc per atom) and, for a
// tiny crystal model, the section in report.html with one table row per generated structure and
// cells.svg written.
#include "elbo/run/cell_projections.h"
#include "elbo/run/crystal_report.h"
#include "elbo/run/report.h"

#include "elbo/core/atomic_file.h"
#include "elbo/data/crystal_rows.h"

#include "report/test_util.h"
#include "support/throws.h"
#include "support/tiny_crystal_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

namespace elbo::run {
namespace {

using report::testing::count;
using report::testing::TempDir;

data::Structure cubic(double a, const std::vector<int>& species, const std::vector<data::Vec3>& frac) {
  data::Structure s;
  s.name = "cubic";
  s.lattice = data::lattice_from_parameters({a, a, a, 90, 90, 90});
  s.species = species;
  s.frac = frac;
  return s;
}

/// A monoclinic cell with three atoms, its lattice rows rotated by `angle` about the axis (1, 2, 3).
data::Structure monoclinic(double angle) {
  data::Structure s;
  s.name = "mono";
  s.lattice = data::lattice_from_parameters({3.1, 4.2, 5.3, 90, 104, 90});
  const double n = std::sqrt(14.0), u[3] = {1 / n, 2 / n, 3 / n}, c = std::cos(angle), sn = std::sin(angle);
  for (data::Vec3& row : s.lattice) {  // Rodrigues' rotation
    const data::Vec3 v = row;
    const double d = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    const data::Vec3 x{u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    for (int k = 0; k < 3; ++k) row[k] = v[k] * c + x[k] * sn + u[k] * d * (1 - c);
  }
  s.species = {8, 14, 26};
  s.frac = {{0.1, 0.2, 0.3}, {0.5, 0.6, 0.7}, {0.9, 0.05, 0.5}};
  return s;
}

/// The numeric attribute `name` of the first element <svg ...>.
double svg_attribute(const std::string& svg, const std::string& name) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(svg, m, std::regex("<svg[^>]* " + name + "=\"([0-9.]+)\""))) << name;
  return m.empty() ? NAN : std::stod(m[1].str());
}

TEST(CellProjections, SizeDiscsAndProjectedPositions) {
  // Rock salt's Na at (1/2, 1/2, 0) projects to (a/2, a/2) on the ab plane; Cl at (0, 0, 1/2) to (0, 0) at height a/2.
  const double a = 4.0;
  const data::Structure salt = cubic(a, {11, 17}, {{0.5, 0.5, 0}, {0, 0, 0.5}});
  const std::vector<data::Structure> all{salt, monoclinic(0), monoclinic(1.1), salt, salt};
  const report::Chart c = cell_projections(all, 3);
  EXPECT_EQ(svg_attribute(c.svg, "width"), 3 * kCellPanel);
  EXPECT_EQ(svg_attribute(c.svg, "height"), 2 * (kCellPanel + kCellCaption));
  EXPECT_EQ(count(c.svg, "<circle"), 2u + 3 + 3 + 2 + 2);  // one disc per atom, legends are squares
  EXPECT_EQ(count(c.svg, "role=\"img\""), 1u);
  ASSERT_EQ(c.rows.size(), 12u);
  EXPECT_EQ(c.rows[0][1], "Na");  // drawn lowest first: Na (height 0) before Cl (height a/2)
  EXPECT_NEAR(std::stod(c.rows[0][2]), a / 2, 1e-3);
  EXPECT_NEAR(std::stod(c.rows[0][3]), a / 2, 1e-3);
  EXPECT_EQ(c.rows[1][1], "Cl");
  EXPECT_NEAR(std::stod(c.rows[1][2]), 0, 1e-3);
  EXPECT_NEAR(std::stod(c.rows[1][4]), a / 2, 1e-3);
  // The projection is the cell's own: a rotated copy of the lattice gives the same picture numbers.
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(c.rows[i][1], c.rows[i + 3][1]);
    for (size_t k = 2; k < 5; ++k) EXPECT_NEAR(std::stod(c.rows[i][k]), std::stod(c.rows[i + 3][k]), 2e-3) << i << "," << k;
  }
  EXPECT_EQ(svg_attribute(cell_projections({salt}, 4).svg, "width"), kCellPanel);  // min(columns, structures) panels
  test::expect_invalid_argument([] { cell_projections({}, 3); }, {"no structures"});
  test::expect_invalid_argument([&] { cell_projections({salt}, 0); }, {"columns must be at least 1"});
}

TEST(CrystalReport, SectionHasARowPerSampleAndThePictureFile) {
  const int64_t n_atoms = 4, samples = 6;
  model::CrystalVae model = test::tiny_crystal_model(n_atoms, 3);
  Config config = test::crystal_run_config(n_atoms);
  config.set("report.samples=" + std::to_string(samples));
  std::vector<data::Structure> test;
  for (int i = 0; i < 4; ++i) test.push_back(cubic(4.0 + 0.1 * i, {11, 17}, {{0, 0, 0}, {0.5, 0.5, 0.5}}));
  const data::Dataset data = data::crystal_dataset(test, n_atoms, "tiny");
  TempDir dir;
  diag::Summary summary;
  summary.examples = data.size();
  write_report(dir.file(""), *model, data, config, summary);

  const std::string html = read_file(dir.file("report.html"));
  EXPECT_EQ(count(html, "<h2>Generated crystals</h2>"), 1u);
  // The table of the structures: one row per sample, each with its name and a validity that agrees
  // with its minimum distance (CDVAE's rule, > 0.5 A).
  const report::Section s = crystal_section(*model, config, dir.file(""));
  ASSERT_EQ(s.charts.size(), 2u);
  const report::Chart& table = s.charts[0];
  ASSERT_EQ(table.rows.size(), static_cast<size_t>(samples));
  int64_t atoms_pictured = 0;
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const auto& row = table.rows[i];
    EXPECT_EQ(row[0], "sample" + std::to_string(i + 1));
    EXPECT_EQ(count(html, "<tr><td>" + row[0] + "</td><td>" + row[1] + "</td><td>" + row[2] + "</td>"), 1u) << row[0];
    const int64_t atoms = std::stoll(row[2]);
    EXPECT_GE(atoms, 1);
    EXPECT_LE(atoms, n_atoms);
    EXPECT_FALSE(row[1].empty());
    EXPECT_EQ(row[5], std::stod(row[4]) > 0.5 ? "yes" : "no") << row[0];
    atoms_pictured += atoms;  // all 6 are pictured (kPicturedCells = 8)
  }
  EXPECT_NE(s.table.at(0).second.find(" / " + std::to_string(samples)), std::string::npos);
  // cells.svg: the picture in the report, 4 panels per row, one disc per atom of the pictured samples.
  const std::string svg = read_file(dir.file("cells.svg"));
  EXPECT_EQ(svg, s.charts[1].svg);
  EXPECT_EQ(svg_attribute(svg, "width"), kPictureColumns * kCellPanel);
  EXPECT_EQ(svg_attribute(svg, "height"), 2 * (kCellPanel + kCellCaption));
  EXPECT_EQ(static_cast<int64_t>(count(svg, "<circle")), atoms_pictured);
  EXPECT_NE(html.find(svg.substr(0, 200)), std::string::npos);  // inline in the report
}

TEST(CrystalReport, RefusesOtherRuns) {
  model::CrystalVae model = test::tiny_crystal_model(2, 1);
  test::expect_invalid_argument([&] { crystal_section(*model, Config(), "/tmp"); }, {"not a crystal run", "model.type"});
}

}  // namespace
}  // namespace elbo::run
