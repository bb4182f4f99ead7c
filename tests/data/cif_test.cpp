// CIF reading (syntax, symmetry expansion, merging) and writing (P1 CIF, POSCAR), and every
// refusal with its file and line. The CLI's refusals of the same kinds of file (data.format =
// "crystals") are in tests/bad_inputs/cif/.
#include "elbo/data/cif.h"

#include "elbo/data/elements.h"

#include "support/throws.h"
#include "temp_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

const std::string kDir = std::string(ELBO_TEST_DATA_DIR) + "/crystals/";

int64_t count(const Structure& s, int z) { return std::count(s.species.begin(), s.species.end(), z); }

/// A cubic P1 CIF with the given atom rows, for the refusals.
std::string cubic(const std::string& atoms, const std::string& extra = "") {
  return "data_test\n"
         "_cell_length_a 4.0\n_cell_length_b 4.0\n_cell_length_c 4.0\n"
         "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n" +
         extra +
         "loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n" + atoms;
}

TEST(Cif, RockSaltFromItsFm3mOperationsHasEightAtoms) {
  // pymatgen's CifWriter(symprec=0.01) output: 2 listed sites, 192 operations.
  const CifData data = read_cif(kDir + "nacl_fm3m.cif");
  ASSERT_EQ(data.structures.size(), 1u);
  EXPECT_TRUE(data.notes.empty());
  const Structure s = canonical(data.structures[0]);
  EXPECT_EQ(s.name, "NaCl");
  EXPECT_EQ(s.size(), 8);
  EXPECT_EQ(count(s, 11), 4);
  EXPECT_EQ(count(s, 17), 4);
  EXPECT_NEAR(min_interatomic_distance(s), 5.64 / 2, 1e-9);
  EXPECT_NEAR(volume(s.lattice), 5.64 * 5.64 * 5.64, 1e-9);
  EXPECT_EQ(s.frac[1], (Vec3{0, 0.5, 0.5}));  // face centring
  EXPECT_EQ(s.source, kDir + "nacl_fm3m.cif:2");
}

TEST(Cif, WurtziteFromDdlmTagsTextFieldsAndUncertainties) {
  const CifData data = read_cif(kDir + "zno_wurtzite.cif");
  const Structure s = canonical(data.structures.at(0));
  EXPECT_EQ(s.name, "ZnO_wurtzite");
  EXPECT_EQ(count(s, 30), 2);  // 4-decimal 1/3, 2/3 images merged
  EXPECT_EQ(count(s, 8), 2);
  const LatticeParameters p = lattice_parameters(s.lattice);
  EXPECT_NEAR(p.a, 3.2495, 1e-12);
  EXPECT_NEAR(p.c, 5.2069, 1e-12);
  EXPECT_NEAR(p.gamma, 120, 1e-9);
  // Zn-O bond along c: u c = 0.3825 * 5.2069.
  EXPECT_NEAR(min_interatomic_distance(s), 1.9757, 0.01);
}

TEST(Cif, TriclinicWithLabelsAnInversionCentreAndAWrappedCoordinate) {
  const CifData data = read_cif(kDir + "sio2_triclinic_p-1.cif");
  const Structure s = data.structures.at(0);
  EXPECT_EQ(count(s, 14), 3);  // Si1 on the inversion centre is one atom
  EXPECT_EQ(count(s, 8), 6);
  ASSERT_EQ(data.notes.size(), 1u);
  EXPECT_NE(data.notes[0].find("sio2_triclinic_p-1.cif:23: _atom_site_fract_z = 1.25 is outside [0, 1): 1 coordinate"),
            std::string::npos)
      << data.notes[0];
  CifOptions strict;
  strict.wrap_coordinates = false;
  expect_invalid_argument([&] { read_cif(kDir + "sio2_triclinic_p-1.cif", strict); },
                          {"sio2_triclinic_p-1.cif:23: _atom_site_fract_z = 1.25 of O1 is outside [0, 1)"});
}

TEST(Cif, PymatgenP1AndSymmetrizedCinnabarAreTheSameCrystal) {
  const Structure p1 = canonical(read_cif(kDir + "hgs_cinnabar_p1.cif").structures.at(0));
  const Structure sym = canonical(read_cif(kDir + "hgs_cinnabar_p3121.cif").structures.at(0));
  ASSERT_EQ(p1.size(), 6);
  ASSERT_EQ(sym.size(), 6);
  std::vector<double> a = distance_matrix(p1), b = distance_matrix(sym);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3);
}

TEST(Cif, SyntaxQuotesLoopsCommentsAndSeveralBlocks) {
  const std::string text =
      "# comment\n"
      "data_first\n"
      "_cell_length_a 3 _cell_length_b 3 _cell_length_c 3  # several items on a line\n"
      "_cell_angle_alpha 90 _cell_angle_beta 90 _cell_angle_gamma 90\n"
      "_chemical_name_common \"it's quoted\"\n"
      "_journal_title 'O'Brien's cell'  # a quote closes only before whitespace\n"
      "loop_ _atom_site_label _atom_site_fract_x _atom_site_fract_y _atom_site_fract_z\n"
      "Cu1 0 0 0 Cu2 0.5 0.5 0.5\n"
      "data_no_crystal\n"
      "_audit_creation_method 'by hand'\n"
      "data_second\r\n"
      "_CELL.LENGTH_A 4\r\n_cell.length_b 4\r\n_cell.length_c 4\r\n"
      "_cell.angle_alpha 90\r\n_cell.angle_beta 90\r\n_cell.angle_gamma 90\r\n"
      "_atom_site.type_symbol Au\r\n_atom_site.fract_x 0.25\r\n_atom_site.fract_y .25\r\n_atom_site.fract_z 2.5e-1\r\n";
  const CifData data = parse_cif(text, "mem.cif");
  ASSERT_EQ(data.structures.size(), 2u);
  EXPECT_EQ(data.structures[0].species, (std::vector<int>{29, 29}));
  EXPECT_EQ(data.structures[0].source, "mem.cif:2");
  EXPECT_EQ(data.structures[1].name, "second");
  EXPECT_EQ(data.structures[1].species, (std::vector<int>{79}));
  EXPECT_EQ(data.structures[1].frac[0], (Vec3{0.25, 0.25, 0.25}));
}

TEST(Cif, OperationForms) {
  const std::string ops =
      "loop_\n_symmetry_equiv_pos_as_xyz\n'x,y,z'\n'-X+1/2, 1/2+Y, z-0.25'\n'-x+y,-y,2*z'\n";
  const CifData data = parse_cif(cubic("Fe 0.1 0.2 0.3\n", ops), "ops.cif");
  const Structure& s = data.structures.at(0);
  ASSERT_EQ(s.size(), 3);
  const Vec3 expected[3] = {{0.1, 0.2, 0.3}, {0.4, 0.7, 0.05}, {0.1, 0.8, 0.6}};
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(s.frac[i][k], expected[i][k], 1e-12) << i << " " << k;
  for (const std::string bad : {"'x,y'", "'x,y,w'", "'x,y,z+1/0'", "'x,y,z+'", "'x,,z'"})
    expect_invalid_argument([&] { parse_cif(cubic("Fe 0 0 0\n", "_symmetry_equiv_pos_as_xyz " + bad + "\n"), "b.cif"); },
                            {"b.cif:8: symmetry operation"});
}

TEST(Cif, MaxAtomsCountsAfterSymmetryExpansion) {
  CifOptions o;
  o.max_atoms = 7;
  expect_invalid_argument([&] { read_cif(kDir + "nacl_fm3m.cif", o); },
                          {"nacl_fm3m.cif:2: data_NaCl: more than 7 atoms in the cell after applying its 192 symmetry "
                           "operations (max_atoms = 7, data.max_atoms)"});
  o.max_atoms = 8;
  EXPECT_EQ(read_cif(kDir + "nacl_fm3m.cif", o).structures.at(0).size(), 8);
}

TEST(Cif, RefusalsNameFileLineAndTag) {
  const auto refuses = [](const std::string& text, std::initializer_list<std::string> parts) {
    expect_invalid_argument([&] { parse_cif(text, "bad.cif"); }, parts);
  };
  std::string missing = cubic("Na 0 0 0\n");
  missing.erase(missing.find("_cell_length_c 4.0\n"), 19);
  refuses(missing, {"bad.cif:1: data_test: missing _cell_length_c"});
  std::string degenerate = cubic("Na 0 0 0\n");
  degenerate.replace(degenerate.find("_cell_angle_gamma 90"), 20, "_cell_angle_gamma 180");
  refuses(degenerate, {"bad.cif:7: data_test: degenerate cell (zero volume)", "gamma = 180"});
  std::string coplanar = cubic("Na 0 0 0\n");
  coplanar.replace(coplanar.find("_cell_angle_alpha 90"), 20, "_cell_angle_alpha 60");
  coplanar.replace(coplanar.find("_cell_angle_beta 90"), 19, "_cell_angle_beta 60");
  coplanar.replace(coplanar.find("_cell_angle_gamma 90"), 20, "_cell_angle_gamma 120");
  refuses(coplanar, {"degenerate cell (zero volume)"});
  std::string zero_length = cubic("Na 0 0 0\n");
  zero_length.replace(zero_length.find("_cell_length_b 4.0"), 18, "_cell_length_b 0.0");
  refuses(zero_length, {"degenerate cell"});
  refuses(cubic("Na 0 0 0\nXq 0.5 0.5 0.5\n"), {"bad.cif:14: unknown element symbol 'Xq' (_atom_site_type_symbol)"});
  refuses(cubic("Na 0 0 abc\n"), {"bad.cif:13: _atom_site_fract_z = 'abc' is not a number"});
  refuses(cubic("Na 0 0 ?\n"), {"bad.cif:13: _atom_site_fract_z is unknown ('?')"});
  refuses(cubic("Na 0 0 0\nCl 0.5 0.5\n"), {"bad.cif:8: loop_ with 4 tags", "has 7 values"});
  refuses(cubic("Na 0 0 0\nCl 0.001 0 0\n"), {"bad.cif:14: Cl at (0.001, 0, 0)", "lands on the Na of line 13",
                                                "disordered or overlapping sites"});
  refuses(cubic("Na 0 0 0\n", "_symmetry_space_group_name_H-M 'F m -3 m'\n"),
          {"bad.cif:8: data_test names space group 'F m -3 m' but lists no symmetry operations"});
  refuses(cubic("Na 0 0 0\n", "_cell_volume 64\n_cell_volume 64\n"), {"bad.cif:9: _cell_volume is repeated in data_test (first at line 8)"});
  refuses("data_x\n_cell_length_a 'open\n", {"bad.cif:2: quoted value ' is never closed"});
  refuses("data_x\n_title\n;\nnever closed\n", {"bad.cif:3: text field (;) is never closed"});
  refuses("_cell_length_a 1\n", {"bad.cif:1: _cell_length_a before the first data_ block"});
  refuses("data_x\n_cell_length_a\n_cell_length_b 2\n", {"bad.cif:2: _cell_length_a has no value"});
  refuses("data_x\n_title a b\n", {"bad.cif:2: value 'b' without a tag"});
  refuses("data_x\n_title a\n", {"bad.cif: no crystal"});
  refuses("", {"bad.cif: no crystal"});
  refuses("data_x\n_cell_length_a 1\n", {"bad.cif:1: data_x: missing _cell_length_b"});
  refuses("data_t\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n"
          "_cell_angle_gamma 90\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
          "_atom_site_fract_z\n_atom_site_occupancy\nFe 0 0 0 0.5\n",
          {"bad.cif:14: _atom_site_occupancy = 0.5 for Fe: partly occupied (disordered) sites are not supported"});
  refuses("data_t\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n"
          "_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_Cartn_x\n_atom_site_Cartn_y\n"
          "_atom_site_Cartn_z\nFe 0 0 0\n",
          {"bad.cif:1: data_t: missing _atom_site_fract_x (Cartesian _atom_site_Cartn_* are not read)"});
  expect_invalid_argument([] { read_cif("/nonexistent/x.cif"); }, {"/nonexistent/x.cif"});
}

Structure random_structure(std::mt19937_64& gen, int atoms) {
  std::uniform_real_distribution<double> u(0, 1);
  Structure s;
  s.name = "random";
  s.lattice = lattice_from_parameters({3 + 4 * u(gen), 3 + 4 * u(gen), 3 + 4 * u(gen), 70 + 40 * u(gen),
                                       70 + 40 * u(gen), 70 + 40 * u(gen)});
  const int elements[] = {3, 8, 14, 26, 56, 79};
  for (int i = 0; i < atoms; ++i) {
    s.species.push_back(elements[gen() % 6]);
    s.frac.push_back({u(gen), u(gen), u(gen)});
  }
  return canonical(s);
}

TEST(Cif, WriterOutputReadsBackAsTheSameStructure) {
  std::mt19937_64 gen(3);
  for (int trial = 0; trial < 50; ++trial) {
    const Structure s = random_structure(gen, 1 + trial % 12);
    const std::string text = format_cif(s);
    const CifData data = parse_cif(text, "written.cif");
    ASSERT_EQ(data.structures.size(), 1u);
    EXPECT_TRUE(data.notes.empty());
    const Structure back = canonical(data.structures[0]);
    ASSERT_EQ(back.species, s.species);
    const LatticeParameters p = lattice_parameters(s.lattice), q = lattice_parameters(back.lattice);
    EXPECT_NEAR(p.a, q.a, 1e-8);
    EXPECT_NEAR(p.b, q.b, 1e-8);
    EXPECT_NEAR(p.c, q.c, 1e-8);
    EXPECT_NEAR(p.alpha, q.alpha, 1e-8);
    EXPECT_NEAR(p.beta, q.beta, 1e-8);
    EXPECT_NEAR(p.gamma, q.gamma, 1e-8);
    for (size_t i = 0; i < s.frac.size(); ++i)
      for (int k = 0; k < 3; ++k) {
        const double d = back.frac[i][k] - s.frac[i][k];
        EXPECT_LT(std::abs(d - std::round(d)), 1e-8);
      }
  }
}

TEST(Cif, WriterFormatIsPymatgens) {
  Structure s;
  s.lattice = lattice_from_parameters({5.64, 5.64, 5.64, 90, 90, 90});
  s.species = {11, 11, 17, 17};
  s.frac = {{0, 0, 0}, {0.5, 0.5, -1e-17}, {0.5, 0.5, 0.5}, {0, 0, 0.5}};
  const std::string cif = format_cif(s);
  EXPECT_NE(cif.find("data_NaCl\n_symmetry_space_group_name_H-M   'P 1'\n_cell_length_a   5.64000000\n"),
            std::string::npos)
      << cif;
  EXPECT_NE(cif.find("_chemical_formula_sum   'Na2 Cl2'\n_cell_volume   179.40614400\n_cell_formula_units_Z   2\n"),
            std::string::npos)
      << cif;
  EXPECT_NE(cif.find("  Na  Na1  1  0.50000000  0.50000000  0.00000000  1\n  Cl  Cl2  1"), std::string::npos) << cif;
  const std::string poscar = format_poscar(s);
  EXPECT_EQ(poscar.substr(0, poscar.find("\n", poscar.find(" Na Cl\n") + 7) + 1).substr(poscar.find(" Na Cl\n")),
            " Na Cl\n 2 2\n");
  EXPECT_NE(poscar.find("direct\n  0.000000000000  0.000000000000  0.000000000000 Na\n"), std::string::npos) << poscar;
  EXPECT_EQ(poscar.substr(0, 12), "Na2Cl2\n1.0\n ");
}

}  // namespace
}  // namespace elbo::data
