// A crystal run's outputs: the validity rule (CDVAE's), exact properties of rows, the table.
#include "elbo/run/crystals.h"

#include "elbo/data/crystal_rows.h"

#include "support/throws.h"
#include "support/tiny_crystal_model.h"

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

// --valid-only: rejection from the model's own draws. What it keeps is valid, named in the order
// accepted, reproducible from the seed; `drawn` counts every pair it drew (so accepted / drawn is
// the unconditioned validity); the draw limit is an error naming what was reached.
TEST(CrystalOutputs, ValidOnlySamplingKeepsValidDrawsAndCountsThemAll) {
  model::CrystalVae model = test::tiny_crystal_model(4, 5);
  const Config config = test::crystal_run_config(4);
  const ValidCrystalSamples a = sample_valid_crystals(*model, config, 5, 7);
  ASSERT_EQ(a.structures.size(), 5u);
  EXPECT_GE(a.drawn, 5);
  for (size_t i = 0; i < a.structures.size(); ++i) {
    EXPECT_TRUE(check_crystal(a.structures[i]).valid) << i;
    EXPECT_EQ(a.structures[i].name, "sample" + std::to_string(i + 1));
  }
  const ValidCrystalSamples b = sample_valid_crystals(*model, config, 5, 7);
  EXPECT_EQ(b.drawn, a.drawn);
  EXPECT_EQ(b.structures[4].frac, a.structures[4].frac);
  // The same draws unconditioned (the first block is 64 draws): the first `drawn` of them hold
  // exactly the 5 accepted, the last of them valid.
  ASSERT_LE(a.drawn, 64);
  const std::vector<data::Structure> all = sample_crystals(*model, config, 64, 7);
  int64_t valid = 0;
  for (int64_t i = 0; i < a.drawn; ++i) valid += check_crystal(all[static_cast<size_t>(i)]).valid;
  EXPECT_EQ(valid, 5);
  EXPECT_TRUE(check_crystal(all[static_cast<size_t>(a.drawn - 1)]).valid);
  EXPECT_EQ(all[static_cast<size_t>(a.drawn - 1)].frac, a.structures[4].frac);
  test::expect_invalid_argument([&] { sample_valid_crystals(*model, config, 5, 7, false, 1); },
                                {"elbo sample --valid-only:", "short of 5 after the limit of 1 draws"});
}

}  // namespace
}  // namespace elbo::run
