// pymatgen and ASE JSON structures, and read_structures' choice of reader.
#include "elbo/data/crystal_json.h"

#include "elbo/core/json.h"

#include "support/throws.h"
#include "temp_files.h"

#include <gtest/gtest.h>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

const std::string kDir = std::string(ELBO_TEST_DATA_DIR) + "/crystals/";

TEST(CrystalJson, AflowPrototypesFromPymatgen) {
  const std::vector<Structure> s = read_pymatgen_json(kDir + "aflow_subset.json");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].name, "AB_hP6_154_a_b");
  EXPECT_EQ(s[0].source, kDir + "aflow_subset.json[0]");
  EXPECT_EQ(s[0].species, (std::vector<int>{80, 80, 80, 16, 16, 16}));
  EXPECT_NEAR(volume(s[0].lattice), 141.29292225757536, 1e-9);
  EXPECT_NEAR(s[0].frac[0][0], 0.2802, 1e-12);
  EXPECT_EQ(s[0].frac[1][0], 0);  // 0.9999999999999999 wrapped
  EXPECT_EQ(s[3].size(), 1);
  for (const Structure& x : s)
    for (const Vec3& f : x.frac)
      for (double v : f) EXPECT_TRUE(v >= 0 && v < 1);
}

TEST(CrystalJson, DcdftFromAse) {
  const std::vector<Structure> s = read_ase_json(kDir + "dcdft_subset.json");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "H");
  EXPECT_EQ(s[1].name, "Li");
  EXPECT_EQ(s[2].species, std::vector<int>(12, 5));
  // Li's Cartesian (4.61, 2.66, 4.95) is outside the cell: wrapped.
  for (const Vec3& f : s[1].frac)
    for (double v : f) EXPECT_TRUE(v >= 0 && v < 1);
  EXPECT_NEAR(volume(s[1].lattice) / 3, 20.2, 0.1);
}

TEST(CrystalJson, PymatgenSingleStructureAndAseNdarrays) {
  const Json single = Json::parse(R"({"@class": "Structure", "lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]},
    "sites": [{"species": [{"element": "Cs", "occu": 1}], "abc": [0,0,0]},
              {"species": [{"element": "Cl", "occu": 1.0}], "abc": [0.5,0.5,0.5]}]})");
  const std::vector<Structure> a = pymatgen_structures(single, "cscl.json");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].species, (std::vector<int>{55, 17}));
  const Json ase = Json::parse(R"({"7": {"cell": {"array": {"__ndarray__": [[3, 3], "float64", [2,0,0, 0,2,0, 0,0,2]]}},
    "numbers": {"__ndarray__": [[2], "int64", [26, 26]]},
    "positions": {"__ndarray__": [[2, 3], "float64", [0,0,0, 1,1,1]]}, "pbc": [true, true, true]},
    "nextid": 8})");
  const std::vector<Structure> b = ase_structures(ase, "fe.json");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].name, "id 7");
  EXPECT_EQ(b[0].frac[1], (Vec3{0.5, 0.5, 0.5}));
}

TEST(CrystalJson, Refusals) {
  const auto pymatgen = [](const std::string& text) { return pymatgen_structures(Json::parse(text), "p.json"); };
  const std::string lattice = R"("lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]})";
  expect_invalid_argument([&] { pymatgen(R"({)" + lattice + R"(, "sites": [{"species": [{"element": "Fe", "occu": 0.5}], "abc": [0,0,0]}]})"); },
                          {"p.json: site 0: occupancy 0.5"});
  expect_invalid_argument([&] { pymatgen(R"({)" + lattice + R"(, "sites": [{"species": [{"element": "Fe", "occu": 0.5}, {"element": "Ni", "occu": 0.5}], "abc": [0,0,0]}]})"); },
                          {"p.json: site 0: 2 species on one site"});
  expect_invalid_argument([&] { pymatgen(R"([{"snl": {)" + lattice + R"(, "sites": [{"species": [{"element": "Qq"}], "abc": [0,0,0]}]}}])"); },
                          {"p.json[0]: site 0: unknown element symbol 'Qq'"});
  expect_invalid_argument([&] { pymatgen(R"({"lattice": {"matrix": [[1,0,0],[0,1,0],[1,1,0]]}, "sites": [{"species": [{"element": "Fe"}], "abc": [0,0,0]}]})"); },
                          {"p.json: degenerate cell (zero volume)"});
  expect_invalid_argument([&] { pymatgen(R"({"lattice": {"matrix": [[1,0,0],[0,1,0]]}, "sites": []})"); },
                          {"p.json: the lattice has 2 rows"});
  expect_invalid_argument([&] { pymatgen(R"({"sites": []})"); }, {"p.json: not a pymatgen Structure"});
  const auto ase = [](const std::string& text) { return ase_structures(Json::parse(text), "a.json"); };
  expect_invalid_argument([&] { ase(R"({"1": {"cell": [[2,0,0],[0,2,0],[0,0,2]], "numbers": [0], "positions": [[0,0,0]]}, "ids": [1]})"); },
                          {"a.json[\"1\"]: atom 0: atomic number 0 is not an element"});
  expect_invalid_argument([&] { ase(R"({"1": {"cell": [[2,0,0],[0,2,0],[0,0,2]], "numbers": [1], "positions": [[0,0,0]], "pbc": [true, true, false]}})"); },
                          {"a.json[\"1\"]: not periodic in all three directions"});
  expect_invalid_argument([&] { ase(R"({"ids": [4]})"); }, {"a.json[\"4\"]: listed in ids but missing"});
  expect_invalid_argument([&] { ase(R"([])"); }, {"a.json: expected an ASE database object"});
}

TEST(CrystalJson, ReadStructuresChoosesTheReader) {
  test::TempDir dir;
  EXPECT_EQ(read_structures(kDir + "aflow_subset.json").size(), 5u);
  EXPECT_EQ(read_structures(kDir + "dcdft_subset.json").size(), 3u);
  std::vector<std::string> notes;
  EXPECT_EQ(read_structures(kDir + "hgs_cinnabar_p1.cif", {}, &notes).size(), 1u);
  EXPECT_EQ(notes.size(), 1u);  // pymatgen wrote a coordinate as 1.00000000
  const std::string untyped = dir.write("structure", test::read_raw(kDir + "nacl_fm3m.cif"));
  EXPECT_EQ(read_structures(untyped).at(0).size(), 8);
  CifOptions o;
  o.max_atoms = 9;
  expect_invalid_argument([&] { read_structures(kDir + "aflow_subset.json", o); },
                          {"aflow_subset.json[4]: AB3C_hR10_148_c_f_c has 10 atoms, more than max_atoms = 9"});
  const std::string broken = dir.write("broken.json", "[\n{\"lattice\": \n");
  expect_invalid_argument([&] { read_structures(broken); }, {"broken.json:3: not valid JSON"});
}

}  // namespace
}  // namespace elbo::data
