// Crystal files against pymatgen and ASE: the structures the project reads from the CIF and JSON
// fixtures in tests/data/crystals/ are those pymatgen (and ASE) read from them, and the P1 CIF and
// POSCAR files our writers make of them (checked in under tests/data/crystals/written/, compared
// byte for byte here) read back in pymatgen and ASE as the same structures. The values come from
// scripts/generate_crystal_reference.py (@generated tests/data/crystal_reference.json).
//
// After changing a writer: ELBO_UPDATE_CRYSTAL_GOLDEN=1 build/tests/elbo_tests --gtest_filter='CrystalReference.*'
// rewrites the files under written/, then run the script (it needs python3-pymatgen and python3-ase).
#include "elbo/core/json.h"
#include "elbo/data/cif.h"
#include "elbo/data/crystal_json.h"
#include "elbo/data/elements.h"

#include "temp_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace elbo::data {
namespace {

const std::string kDir = std::string(ELBO_TEST_DATA_DIR) + "/crystals/";
const char* kInputs[] = {"nacl_fm3m.cif",       "zno_wurtzite.cif",  "sio2_triclinic_p-1.cif", "hgs_cinnabar_p1.cif",
                         "hgs_cinnabar_p3121.cif", "aflow_subset.json", "dcdft_subset.json"};

Json reference() {
  std::ifstream in(std::string(ELBO_TEST_DATA_DIR) + "/crystal_reference.json");
  return Json::parse(in);
}

std::string stem(const std::string& file) { return file.substr(0, file.find_last_of('.')); }

/// Every site of `expected` ([[Z, x, y, z], ...]) matches one atom of s of that species within tol
/// (fractional, periodic), one to one.
void expect_same_sites(const Structure& s, const Json& expected, double tol) {
  ASSERT_EQ(static_cast<size_t>(s.size()), expected.size());
  std::vector<bool> used(s.species.size(), false);
  for (const Json& site : expected) {
    const int z = site[0].get<int>();
    const Vec3 f{site[1].get<double>(), site[2].get<double>(), site[3].get<double>()};
    bool found = false;
    for (size_t i = 0; i < s.species.size() && !found; ++i) {
      if (used[i] || s.species[i] != z) continue;
      double worst = 0;
      for (int k = 0; k < 3; ++k) {
        const double d = s.frac[i][k] - f[k];
        worst = std::max(worst, std::abs(d - std::round(d)));
      }
      if (worst < tol) used[i] = found = true;
    }
    EXPECT_TRUE(found) << s.name << ": no atom of Z = " << z << " at " << f[0] << " " << f[1] << " " << f[2];
  }
}

void expect_same_cell(const Structure& s, const Json& expected, double tol) {
  const LatticeParameters p = lattice_parameters(s.lattice);
  const double ours[6] = {p.a, p.b, p.c, p.alpha, p.beta, p.gamma};
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(ours[k], expected["parameters"][k].get<double>(), tol) << s.name << " parameter " << k;
  EXPECT_NEAR(volume(s.lattice), expected["volume"].get<double>(), tol * volume(s.lattice)) << s.name;
}

std::vector<Structure> read_input(const std::string& file) {
  std::vector<Structure> out;
  for (Structure& s : read_structures(kDir + file)) out.push_back(canonical(std::move(s)));
  return out;
}

TEST(CrystalReference, OurReadersAgreeWithPymatgen) {
  const Json ref = reference().at("inputs");
  int64_t checked = 0;
  for (const std::string file : kInputs) {
    const std::vector<Structure> structures = read_input(file);
    for (size_t i = 0; i < structures.size(); ++i) {
      const std::string key = file + "#" + std::to_string(i);
      SCOPED_TRACE(key);
      ASSERT_TRUE(ref.contains(key));
      const Json& r = ref.at(key);
      const Structure& s = structures[i];
      ASSERT_EQ(s.size(), r["nsites"].get<int64_t>());  // symmetry expansion and merging as pymatgen's
      expect_same_cell(s, r, 1e-6);
      // 4-decimal coordinates (0.3333): pymatgen snaps them to 1/3, we keep them.
      expect_same_sites(s, r["sites"], 2e-4);
      std::vector<double> d, upper = distance_matrix(s);
      const size_t n = s.species.size();
      for (size_t a = 0; a < n; ++a)
        for (size_t b = a + 1; b < n; ++b) d.push_back(upper[a * n + b]);
      std::sort(d.begin(), d.end());
      ASSERT_EQ(d.size(), r["distances"].size());
      for (size_t k = 0; k < d.size(); ++k) EXPECT_NEAR(d[k], r["distances"][k].get<double>(), 2e-3) << k;
      // pymatgen's Structure.density (its masses, its N_A): the same to 1e-6 relative.
      EXPECT_NEAR(mass_density(s), r["density"].get<double>(), 1e-6 * r["density"].get<double>());
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int64_t>(ref.size()));
}

TEST(CrystalReference, AtomicMassesArePymatgens) {
  const Json ref = reference().at("atomic_masses");
  ASSERT_EQ(ref.size(), static_cast<size_t>(kMaxAtomicNumber));
  for (int z = 1; z <= kMaxAtomicNumber; ++z)
    EXPECT_NEAR(element(z).mass, ref.at(std::to_string(z)).get<double>(), 1e-9) << element(z).symbol;
  // And a few against IUPAC's standard atomic weights (CIAAW 2021, within their stated intervals, which
  // pymatgen's older values fall in): Na 22.98976928(2), Fe 55.845(2), U 238.02891(3), C [12.0096, 12.0116].
  EXPECT_NEAR(element(11).mass, 22.98976928, 2e-8);
  EXPECT_NEAR(element(26).mass, 55.845, 2e-3);
  EXPECT_NEAR(element(92).mass, 238.02891, 3e-5);
  EXPECT_NEAR(element(6).mass, 12.0106, 1e-3);
}

TEST(CrystalReference, WrittenFilesAreTheCheckedInOnesAndReadBackInPymatgenAndAse) {
  const bool update = std::getenv("ELBO_UPDATE_CRYSTAL_GOLDEN") != nullptr;
  const Json ref = update ? Json::object() : reference().at("written");
  int64_t files = 0;
  for (const std::string file : kInputs) {
    const std::vector<Structure> structures = read_input(file);
    for (size_t i = 0; i < structures.size(); ++i) {
      const Structure& s = structures[i];
      for (const std::string ext : {".cif", ".poscar"}) {
        const std::string name = stem(file) + "_" + std::to_string(i) + ext;
        SCOPED_TRACE(name);
        const std::string text = ext == ".cif" ? format_cif(s) : format_poscar(s);
        const std::string path = kDir + "written/" + name;
        if (update) {
          std::ofstream(path, std::ios::binary) << text;
          continue;
        }
        EXPECT_EQ(test::read_raw(path), text) << "the writer changed: see this file's header";
        ASSERT_TRUE(ref.contains(name));
        for (const char* reader : {"pymatgen", "ase"}) {
          SCOPED_TRACE(reader);
          const Json& r = ref.at(name).at(reader);
          // 8 decimals in the CIF, 12 in the POSCAR; pymatgen's CifParser rounds coordinates within a
          // relative 1e-4 of 1/3 or 2/3 to them (0.33330000 -> 1/3).
          const bool snapped = ext == ".cif" && std::string(reader) == "pymatgen";
          const double tol = snapped ? 1e-4 : ext == ".cif" ? 2e-7 : 1e-9;
          expect_same_cell(s, r, ext == ".cif" ? 1e-6 : 1e-8);
          expect_same_sites(s, r["sites"], tol);
        }
        if (ext == ".cif") {  // and our own reader
          const Structure back = canonical(parse_cif(text, name).structures.at(0));
          const LatticeParameters p = lattice_parameters(s.lattice), q = lattice_parameters(back.lattice);
          EXPECT_NEAR(p.a, q.a, 1e-7);
          EXPECT_NEAR(p.beta, q.beta, 1e-7);
          ASSERT_EQ(back.species, s.species);
        }
        ++files;
      }
    }
  }
  if (!update) EXPECT_EQ(files, static_cast<int64_t>(ref.size()));
}

}  // namespace
}  // namespace elbo::data
