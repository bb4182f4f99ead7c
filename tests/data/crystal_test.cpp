// Crystal geometry: lattices from parameters, minimum-image distances against a brute force over
// many cells (skewed cells included), canonical order, origin shifts, the padded batch.
#include "elbo/data/crystal.h"

#include "elbo/data/elements.h"

#include "support/throws.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

/// min over n in [-range, range]^3 of |(df + n) L| (skipping 0 when exclude_zero and df = 0).
double brute_force(const Mat3& L, const Vec3& df, int range, bool exclude_zero) {
  double best = INFINITY;
  for (int i = -range; i <= range; ++i)
    for (int j = -range; j <= range; ++j)
      for (int k = -range; k <= range; ++k) {
        const Vec3 f{df[0] - std::round(df[0]) + i, df[1] - std::round(df[1]) + j, df[2] - std::round(df[2]) + k};
        if (exclude_zero && f[0] == 0 && f[1] == 0 && f[2] == 0) continue;
        best = std::min(best, norm(cartesian(L, f)));
      }
  return best;
}

/// A random, roughly cubic lattice.
Mat3 random_lattice(std::mt19937_64& gen) {
  std::uniform_real_distribution<double> u(-1, 1);
  Mat3 L{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) L[r][c] = (r == c ? 3.0 : 0.0) + 1.5 * u(gen);
  return L;
}

/// Another basis of the same lattice: integer multiples of one row added to another, so the rows
/// are long and nearly parallel and the nearest image lies many cells away in this basis.
Mat3 skew(const Mat3& nice, std::mt19937_64& gen) {
  std::uniform_int_distribution<int> m(-4, 4);
  Mat3 L = nice;
  for (int step = 0; step < 4; ++step) {
    const int a = step % 3, b = (step + 1) % 3, k = m(gen);
    for (int c = 0; c < 3; ++c) L[a][c] += k * L[b][c];
  }
  return L;
}

TEST(Lattice, FromParametersHasThoseParametersAndTheVolumeFormula) {
  const LatticeParameters cases[] = {{5.64, 5.64, 5.64, 90, 90, 90},
                                     {3.25, 3.25, 5.21, 90, 90, 120},
                                     {5.1, 6.2, 7.3, 80, 95, 110},
                                     {4.0, 4.0, 4.0, 60, 60, 60}};
  for (const LatticeParameters& p : cases) {
    const Mat3 L = lattice_from_parameters(p);
    const LatticeParameters q = lattice_parameters(L);
    EXPECT_NEAR(q.a, p.a, 1e-12);
    EXPECT_NEAR(q.c, p.c, 1e-12);
    EXPECT_NEAR(q.alpha, p.alpha, 1e-10);
    EXPECT_NEAR(q.beta, p.beta, 1e-10);
    EXPECT_NEAR(q.gamma, p.gamma, 1e-10);
    const double ca = std::cos(p.alpha * M_PI / 180), cb = std::cos(p.beta * M_PI / 180),
                 cg = std::cos(p.gamma * M_PI / 180);
    const double v = p.a * p.b * p.c * std::sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg);
    EXPECT_NEAR(volume(L), v, 1e-9 * v);
    EXPECT_GT(determinant(L), 0);  // right-handed
    EXPECT_EQ(L[0][1], 0);
    EXPECT_EQ(L[0][2], 0);
    EXPECT_EQ(L[1][2], 0);
  }
  const Mat3 cubic = lattice_from_parameters({2, 2, 2, 90, 90, 90});
  EXPECT_EQ(cubic[1][0], 0);  // exact zeros at 90 degrees
  EXPECT_EQ(cubic[2][1], 0);
}

TEST(Lattice, RefusesBadParameters) {
  expect_invalid_argument([] { lattice_from_parameters({0, 1, 1, 90, 90, 90}); }, {"lengths must be positive"});
  expect_invalid_argument([] { lattice_from_parameters({1, 1, 1, 180, 90, 90}); }, {"(0, 180)"});
  // alpha + beta = gamma: the three vectors are coplanar.
  expect_invalid_argument([] { lattice_from_parameters({1, 1, 1, 60, 60, 120}); }, {"span no volume"});
}

TEST(MinimumImage, MatchesABruteForceOverManyCellsInRandomAndSkewedLattices) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> u(-3, 3);
  int64_t far = 0;  // cases whose nearest image is beyond the neighbouring cells in the given basis
  for (int trial = 0; trial < 400; ++trial) {
    // The brute force runs in the nice basis (images within 14 cells there), the search in a skewed one.
    const Mat3 nice = random_lattice(gen);
    if (volume(nice) < 5.0) continue;
    const Mat3 L = trial % 2 == 1 ? skew(nice, gen) : nice;
    const MinimumImage image(L);
    const Vec3 df{u(gen), u(gen), u(gen)};
    const double expected = brute_force(nice, fractional(nice, cartesian(L, df)), 14, false);
    EXPECT_NEAR(image.distance(df), expected, 1e-9) << "trial " << trial;
    if (std::abs(brute_force(L, df, 1, false) - expected) > 1e-9) ++far;
    if (trial % 8 == 1)
      EXPECT_NEAR(image.distance({0, 0, 0}, true), brute_force(nice, {0, 0, 0}, 14, true), 1e-9) << "trial " << trial;
  }
  EXPECT_GT(far, 20) << "the skewed cells should need images beyond the 27 neighbouring cells";
}

TEST(MinimumImage, IsPeriodicAndSymmetric) {
  const Mat3 L = lattice_from_parameters({5.1, 6.2, 7.3, 80, 95, 110});
  const MinimumImage image(L);
  const Vec3 df{0.3, -0.45, 0.7};
  EXPECT_NEAR(image.distance(df), image.distance({df[0] + 3, df[1] - 2, df[2] + 1}), 1e-12);
  EXPECT_NEAR(image.distance(df), image.distance({-df[0], -df[1], -df[2]}), 1e-12);
  EXPECT_EQ(image.distance({0, 0, 0}), 0);
  EXPECT_EQ(image.distance({2, -1, 0}), 0);
  EXPECT_NEAR(shortest_lattice_vector(L), 5.1, 1e-12);
}

TEST(MinimumImage, ExtremeAspectRatiosAreExactAndQuick) {
  // The CI fuzzer's crash: a 1e-3 x 1e3 x 1e3 A cell made the old box search span 1e6 cells. In an
  // orthorhombic cell the nearest image wraps each axis on its own: sum_k (a_k (f_k - round f_k))^2.
  const Vec3 lengths{1e-3, 1e3, 2e3};
  const MinimumImage image(lattice_from_parameters({lengths[0], lengths[1], lengths[2], 90, 90, 90}));
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> u(-4, 4);
  for (int trial = 0; trial < 50; ++trial) {
    const Vec3 df{u(gen), u(gen), u(gen)};
    double sq = 0;
    for (int k = 0; k < 3; ++k) sq += std::pow(lengths[k] * (df[k] - std::round(df[k])), 2);
    EXPECT_NEAR(image.distance(df), std::sqrt(sq), 1e-9 * std::sqrt(sq)) << "trial " << trial;
  }
  EXPECT_NEAR(image.distance({0, 0, 0}, true), 1e-3, 1e-15);
  // A needle cell sheared at 0.01 degrees: the search must still find the short combinations.
  const Mat3 needle = lattice_from_parameters({1, 1, 1e3, 90, 90, 0.01});
  EXPECT_NEAR(shortest_lattice_vector(needle), 2 * std::sin(0.005 * M_PI / 180), 1e-12);
}

TEST(MinimumImage, RefusesADegenerateLattice) {
  const Mat3 flat{Vec3{1, 0, 0}, Vec3{0, 1, 0}, Vec3{1, 1, 0}};
  expect_invalid_argument([&] { MinimumImage image(flat); }, {"spans no volume"});
}

Structure rock_salt() {  // conventional NaCl cell, listed out of canonical order
  Structure s;
  s.name = "NaCl";
  s.lattice = lattice_from_parameters({5.64, 5.64, 5.64, 90, 90, 90});
  s.species = {17, 11, 11, 17, 11, 17, 11, 17};
  s.frac = {{0.5, 0.5, 0.5}, {0, 0, 0},     {0.5, 0.5, 0}, {0, 0, 0.5},
            {0.5, 0, 0.5},   {0, 0.5, 0},   {0, 0.5, 0.5}, {0.5, 0, 0}};
  return s;
}

TEST(Structure, DistancesOfRockSalt) {
  const Structure s = rock_salt();
  const std::vector<double> d = distance_matrix(s);
  ASSERT_EQ(d.size(), 64u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(d[i * 8 + i], 0);
    for (size_t j = 0; j < 8; ++j) {
      if (i == j) continue;
      // Na-Cl pairs at a/2 or a sqrt(3)/2, like pairs at a/sqrt(2).
      const double expected = s.species[i] == s.species[j] ? 5.64 / std::sqrt(2.0) : 2.82;
      if (s.species[i] == s.species[j] || d[i * 8 + j] < 3) EXPECT_NEAR(d[i * 8 + j], expected, 1e-12);
    }
  }
  EXPECT_NEAR(min_interatomic_distance(s), 2.82, 1e-12);
  EXPECT_EQ(formula(s), "Na4Cl4");
  EXPECT_EQ(formula(s, true), "NaCl");
  Structure one;
  one.lattice = lattice_from_parameters({2.5, 3, 4, 90, 90, 90});
  one.species = {26};
  one.frac = {{0.2, 0.2, 0.2}};
  EXPECT_NEAR(min_interatomic_distance(one), 2.5, 1e-12);  // its own image
}

TEST(Structure, MassDensityOfRockSaltIsItsClosedForm) {
  // 4 NaCl in a^3: rho = 4 (m_Na + m_Cl) / (N_A a^3) = 4 x 58.443 u / (6.02214076e23 x 179.406e-24 cm^3) = 2.164
  // g/cm^3 (measured: 2.165).
  const Structure s = rock_salt();
  EXPECT_NEAR(mass_density(s), 4 * (22.98976928 + 35.453) / (0.602214076 * 5.64 * 5.64 * 5.64), 1e-9);
  EXPECT_NEAR(mass_density(s), 2.164, 5e-4);
  Structure empty;
  empty.lattice = s.lattice;
  test::expect_invalid_argument([&] { mass_density(empty); }, {"mass_density", "no atoms"});
  Structure flat = s;
  flat.lattice = Mat3{};
  test::expect_invalid_argument([&] { mass_density(flat); }, {"mass_density", "volume 0"});
}

TEST(Structure, CanonicalOrderIgnoresListingOrderAndWholeCells) {
  const Structure s = canonical(rock_salt());
  EXPECT_EQ(s.species, (std::vector<int>{11, 11, 11, 11, 17, 17, 17, 17}));
  EXPECT_EQ(s.frac[0], (Vec3{0, 0, 0}));
  EXPECT_EQ(s.frac[1], (Vec3{0, 0.5, 0.5}));
  EXPECT_EQ(s.frac[4], (Vec3{0, 0, 0.5}));
  Structure moved = rock_salt();
  std::reverse(moved.species.begin(), moved.species.end());
  std::reverse(moved.frac.begin(), moved.frac.end());
  for (Vec3& f : moved.frac) f = {f[0] + 2, f[1] - 1, f[2] - 1e-13};  // -1e-13 wraps to 0 for z = 0
  const Structure c = canonical(moved);
  EXPECT_EQ(c.species, s.species);
  for (size_t i = 0; i < s.frac.size(); ++i)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(c.frac[i][k], s.frac[i][k], 1e-12);
}

TEST(Structure, OriginShiftKeepsEveryDistance) {
  const Structure s = rock_salt();
  const Structure shifted = random_origin_shift(s, 42);
  EXPECT_EQ(shifted.species, s.species);
  bool moved = false;
  for (size_t i = 0; i < s.frac.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      EXPECT_GE(shifted.frac[i][k], 0);
      EXPECT_LT(shifted.frac[i][k], 1);
      moved = moved || std::abs(shifted.frac[i][k] - s.frac[i][k]) > 1e-3;
    }
  EXPECT_TRUE(moved);
  const std::vector<double> a = distance_matrix(s), b = distance_matrix(shifted);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9);
  // Seeded: the same seed gives the same shift, another seed another.
  EXPECT_EQ(random_origin_shift(s, 42).frac, shifted.frac);
  EXPECT_NE(random_origin_shift(s, 43).frac, shifted.frac);
}

TEST(CrystalBatch, PadsMasksAndUnpadsBack) {
  Structure small;
  small.name = "Fe";
  small.lattice = lattice_from_parameters({2.87, 2.87, 2.87, 90, 90, 90});
  small.species = {26, 26};
  small.frac = {{0, 0, 0}, {0.5, 0.5, 1.5}};  // wrapped in the batch
  const CrystalBatch b = pad_structures({rock_salt(), small}, 10);
  EXPECT_EQ(b.size(), 2);
  EXPECT_EQ(b.lattice.sizes(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_EQ(b.frac.sizes(), (std::vector<int64_t>{2, 10, 3}));
  EXPECT_EQ(b.count[0].item<int64_t>(), 8);
  EXPECT_EQ(b.count[1].item<int64_t>(), 2);
  EXPECT_EQ(b.mask.sum().item<float>(), 10);
  EXPECT_EQ(b.mask[1][2].item<float>(), 0);
  EXPECT_EQ(b.species[1][2].item<int64_t>(), 0);
  EXPECT_EQ(b.species[0][0].item<int64_t>(), 17);
  EXPECT_FLOAT_EQ(b.frac[1][1][2].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(b.parameters[1][0].item<float>(), 2.87f);
  EXPECT_FLOAT_EQ(b.parameters[0][5].item<float>(), 90.f);
  EXPECT_EQ(b.frac.dtype(), torch::kFloat32);
  const std::vector<Structure> back = unpad_structures(pad_structures({rock_salt(), small}, 8, torch::kFloat64));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].species, rock_salt().species);
  EXPECT_EQ(back[0].frac, rock_salt().frac);
  EXPECT_EQ(back[1].size(), 2);
  EXPECT_EQ(back[1].name, "structure2");
  expect_invalid_argument([&] { pad_structures({rock_salt()}, 7); },
                          {"NaCl", "has 8 atoms, more than max_atoms = 7"});
  expect_invalid_argument([&] { pad_structures({Structure{}}, 7); }, {"has no atoms"});
}

TEST(CrystalBatch, ShiftCoordinatesIsShiftOriginOnTensors) {
  const Structure s = rock_salt();
  const CrystalBatch b = pad_structures({s}, 8, torch::kFloat64);
  const torch::Tensor shift = torch::tensor({{0.7, -0.2, 1.35}}, torch::kFloat64);
  const torch::Tensor moved = shift_coordinates(b.frac, shift);
  const Structure expected = shift_origin(s, {0.7, -0.2, 1.35});
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t k = 0; k < 3; ++k)
      EXPECT_NEAR(moved[0][i][k].item<double>(), expected.frac[static_cast<size_t>(i)][static_cast<size_t>(k)], 1e-12);
  EXPECT_GE(shift_coordinates(torch::full({1, 1, 3}, -1e-20), torch::zeros({1, 3})).min().item<float>(), 0);
  EXPECT_LT(shift_coordinates(torch::full({1, 1, 3}, -1e-20), torch::zeros({1, 3})).max().item<float>(), 1);
}

TEST(Elements, TableAndLabels) {
  EXPECT_STREQ(element(11).symbol, "Na");
  EXPECT_EQ(atomic_number("Cl"), 17);
  EXPECT_EQ(atomic_number("Xx"), 0);
  EXPECT_EQ(atomic_number("cl"), 0);  // exact symbols only
  EXPECT_NEAR(element(11).radius, 1.80, 1e-12);  // Slater
  EXPECT_EQ(element(8).oxidation_states, std::vector<int>{-2});
  EXPECT_EQ(element(98).radius_source, RadiusSource::metallic);
  EXPECT_EQ(element(85).radius, 0);
  for (const char* label : {"Na", "Na1", "Na+", "NA1", "na"}) EXPECT_EQ(atomic_number_of_label(label), 11) << label;
  EXPECT_EQ(atomic_number_of_label("Fe3+"), 26);
  EXPECT_EQ(atomic_number_of_label("O2-"), 8);
  EXPECT_EQ(atomic_number_of_label("Co1"), 27);
  EXPECT_EQ(atomic_number_of_label("C12"), 6);
  EXPECT_EQ(atomic_number_of_label("Q1"), 0);
  EXPECT_EQ(atomic_number_of_label("1Na"), 0);
  EXPECT_EQ(atomic_number_of_label(""), 0);
  for (int z = 1; z <= kMaxAtomicNumber; ++z) {
    EXPECT_EQ(element(z).z, z);
    EXPECT_EQ(atomic_number(element(z).symbol), z);
  }
  expect_invalid_argument([] { element(99); }, {"no element has atomic number 99"});
}

}  // namespace
}  // namespace elbo::data
