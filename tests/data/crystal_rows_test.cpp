// Crystals as dataset rows: structures round-trip through rows, the typed view, origin shifts in
// tensor form against canonical(shift_origin(...)) in double, refusals.
#include "elbo/data/crystal_rows.h"

#include "elbo/data/crystal_json.h"
#include "elbo/data/lattice_map.h"

#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

const std::string kDir = std::string(ELBO_TEST_DATA_DIR) + "/crystals/";

std::vector<Structure> test_structures() {
  std::vector<Structure> all;
  for (const char* file : {"nacl_fm3m.cif", "zno_wurtzite.cif", "sio2_triclinic_p-1.cif", "hgs_cinnabar_p3121.cif",
                           "aflow_subset.json", "dcdft_subset.json"})
    for (Structure& s : read_structures(kDir + file)) all.push_back(std::move(s));
  return all;
}

int64_t largest(const std::vector<Structure>& all) {
  int64_t n = 0;
  for (const Structure& s : all) n = std::max(n, s.size());
  return n;
}

double dot(const Vec3& u, const Vec3& v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

TEST(CrystalRows, StructuresRoundTripThroughRows) {
  const std::vector<Structure> all = test_structures();
  const int64_t n = largest(all) + 2;
  const torch::Tensor rows = crystal_rows(all, n, torch::kDouble);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{static_cast<int64_t>(all.size()), 7 + 4 * n}));
  const std::vector<Structure> back = row_structures(rows, n, "r");
  ASSERT_EQ(back.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const Structure expected = canonical(right_handed(all[i]));
    EXPECT_EQ(back[i].species, expected.species) << all[i].name;
    ASSERT_EQ(back[i].frac.size(), expected.frac.size());
    for (size_t j = 0; j < expected.frac.size(); ++j)
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(back[i].frac[j][k], expected.frac[j][k], 1e-12) << all[i].name;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(dot(back[i].lattice[r], back[i].lattice[c]), dot(expected.lattice[r], expected.lattice[c]),
                    1e-10 * (1 + dot(expected.lattice[r], expected.lattice[r]))) << all[i].name;
    EXPECT_NEAR(volume(back[i].lattice), volume(all[i].lattice), 1e-10 * volume(all[i].lattice));
    EXPECT_EQ(back[i].name, "r" + std::to_string(i + 1));
  }
}

TEST(CrystalRows, TypedViewOfABatch) {
  const std::vector<Structure> all = test_structures();
  const int64_t n = largest(all);
  const torch::Tensor rows = crystal_rows(all, n);  // float32
  EXPECT_EQ(rows.scalar_type(), torch::kFloat);
  EXPECT_LT(rows.narrow(1, CrystalRowLayout{n}.frac(), 3 * n).max().item<double>(), 1.0);
  const CrystalBatch b = crystal_batch(rows, n);
  for (size_t i = 0; i < all.size(); ++i) {
    const Structure s = canonical(right_handed(all[i]));
    EXPECT_EQ(b.count[i].item<int64_t>(), s.size());
    EXPECT_EQ(b.mask[i].sum().item<double>(), static_cast<double>(s.size()));
    for (int64_t j = 0; j < n; ++j)
      EXPECT_EQ(b.species[i][j].item<int64_t>(), j < s.size() ? s.species[j] : 0);
    const LatticeParameters p = lattice_parameters(s.lattice);
    const double expected[] = {p.a, p.b, p.c, p.alpha, p.beta, p.gamma};
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(b.parameters[i][k].item<double>(), expected[k], 1e-3 * expected[k]);
  }
  const Dataset d = crystal_dataset(all, n, "set");
  EXPECT_TRUE(torch::equal(d.x, rows));
  EXPECT_EQ(d.name, "set");
}

TEST(CrystalRows, OriginShiftsInTensorsMatchTheDoubleForm) {
  const std::vector<Structure> all = test_structures();
  const int64_t n = largest(all) + 1;
  const torch::Tensor rows = crystal_rows(all, n, torch::kDouble);
  std::mt19937_64 gen(9);
  std::uniform_real_distribution<double> u(0, 1);
  torch::Tensor shift = torch::empty({static_cast<int64_t>(all.size()), 3}, torch::kDouble);
  std::vector<Structure> expected;
  for (size_t i = 0; i < all.size(); ++i) {
    const Vec3 s{u(gen), u(gen), u(gen)};
    for (int k = 0; k < 3; ++k) shift[i][k] = s[k];
    expected.push_back(canonical(shift_origin(canonical(right_handed(all[i])), s)));
  }
  const torch::Tensor shifted = shift_rows(rows, shift, n);
  const std::vector<Structure> got = row_structures(shifted, n);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(got[i].species, expected[i].species) << all[i].name;
    for (size_t j = 0; j < expected[i].frac.size(); ++j)
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(got[i].frac[j][k], expected[i].frac[j][k], 1e-12) << all[i].name;
  }
  // The lattice and the count are untouched, the padding stays 0.
  EXPECT_TRUE(torch::equal(shifted.narrow(1, 0, 7), rows.narrow(1, 0, 7)));
  const CrystalBatch b = crystal_batch(shifted, n);
  EXPECT_EQ((b.frac * (1 - b.mask).unsqueeze(-1)).abs().sum().item<double>(), 0.0);
  EXPECT_EQ((b.species.to(torch::kDouble) * (1 - b.mask)).abs().sum().item<double>(), 0.0);
}

TEST(CrystalRows, Refusals) {
  const std::vector<Structure> all = test_structures();
  expect_invalid_argument([&] { crystal_rows(all, 2); }, {"max_atoms"});
  const torch::Tensor rows = crystal_rows(all, largest(all));
  expect_invalid_argument([&] { crystal_batch(rows, largest(all) + 1); }, {"expected float crystal rows", "data.max_atoms"});
  torch::Tensor bad = rows.clone();
  bad[0][6] = 0;
  expect_invalid_argument([&] { crystal_batch(bad, largest(all)); }, {"atom counts must lie in 1.."});
  bad = rows.clone();
  bad[1][7] = 0;
  expect_invalid_argument([&] { row_structures(bad, largest(all)); }, {"row 2, atom 1 has atomic number 0"});
  expect_invalid_argument([&] { crystal_dataset({}, 4, "empty.json"); }, {"empty.json: no crystal structures"});
}

}  // namespace
}  // namespace elbo::data
