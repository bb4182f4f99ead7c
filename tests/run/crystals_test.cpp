// A crystal run's outputs: the validity rule (CDVAE's), exact properties of rows, the table.
#include "elbo/run/crystals.h"

#include "elbo/data/crystal_rows.h"

#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo::run {
namespace {

data::Structure rock_salt(double a) {
  data::Structure s;
  s.name = "nacl";
  s.lattice = data::lattice_from_parameters({a, a, a, 90, 90, 90});
  for (const data::Vec3& f : {data::Vec3{0, 0, 0}, data::Vec3{0, 0.5, 0.5}, data::Vec3{0.5, 0, 0.5}, data::Vec3{0.5, 0.5, 0}}) {
    s.species.push_back(11);
    s.frac.push_back(f);
    s.species.push_back(17);
    s.frac.push_back({f[0] + 0.5 - (f[0] >= 0.5), f[1], f[2]});
  }
  return s;
}

TEST(CrystalOutputs, ValidityIsEveryDistanceAboveHalfAnAngstromAndAVolume) {
  const CrystalCheck ok = check_crystal(rock_salt(5.64));
  EXPECT_TRUE(ok.valid);
  EXPECT_EQ(ok.atoms, 8);
  EXPECT_NEAR(ok.volume, 5.64 * 5.64 * 5.64, 1e-9);
  EXPECT_NEAR(ok.volume_per_atom, 5.64 * 5.64 * 5.64 / 8, 1e-9);
  EXPECT_NEAR(ok.min_distance, 5.64 / 2, 1e-9);  // Na-Cl along an axis
  EXPECT_EQ(ok.formula, "Na4Cl4");
  // Shrunk until Na and Cl are 0.49 A apart: invalid; 0.51 A: valid.
  EXPECT_FALSE(check_crystal(rock_salt(0.98)).valid);
  EXPECT_TRUE(check_crystal(rock_salt(1.02)).valid);
  const std::string csv = crystal_table_csv({ok});
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "name,formula,atoms,volume,volume_per_atom,min_distance,valid");
  EXPECT_NE(csv.find("nacl,Na4Cl4,8,"), std::string::npos);
}

TEST(CrystalOutputs, PropertiesOfRowsAreExact) {
  const torch::Tensor rows = data::crystal_rows({rock_salt(5.64), rock_salt(4.0)}, 8, torch::kDouble);
  const torch::Tensor v = crystal_property("volume_per_atom", rows, 8), d = crystal_property("number_density", rows, 8);
  EXPECT_NEAR(v[0].item<double>(), 5.64 * 5.64 * 5.64 / 8, 1e-9);
  EXPECT_NEAR(v[1].item<double>(), 8.0, 1e-9);
  EXPECT_NEAR(d[1].item<double>(), 125.0, 1e-9);  // 8 atoms in 64 A^3 = 0.064 nm^3
  // 4 NaCl (58.443 u each) in a^3, over Avogadro's number: 2.164 g/cm^3 at a = 5.64 A.
  const torch::Tensor rho = crystal_property("mass_density", rows, 8);
  EXPECT_NEAR(rho[0].item<double>(), 4 * 58.44276928 / (0.602214076 * 5.64 * 5.64 * 5.64), 1e-6);
  EXPECT_NEAR(rho[1].item<double>(), 4 * 58.44276928 / (0.602214076 * 64), 1e-6);
  test::expect_invalid_argument([&] { crystal_property("density", rows, 8); },
                                {"'density' is not a property of a crystal run", "volume_per_atom", "number_density",
                                 "mass_density"});
}

}  // namespace
}  // namespace elbo::run
