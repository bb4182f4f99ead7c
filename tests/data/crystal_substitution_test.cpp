// The element-substitution training set: substitutes, rescaling to the radii, the draw.
#include "elbo/data/crystal_substitution.h"

#include "elbo/data/crystal_json.h"
#include "elbo/data/elements.h"

#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace elbo::data {
namespace {

const std::string kDir = std::string(ELBO_TEST_DATA_DIR) + "/crystals/";

TEST(Substitution, SubstitutesHaveSimilarRadiusAndASharedOxidationState) {
  for (int z : {3, 11, 16, 26, 30, 80, 92}) {
    const Element& e = element(z);
    for (int c : substitutes(z, 0.15)) {
      EXPECT_NE(c, z);
      EXPECT_LE(c, 83);
      EXPECT_LE(std::abs(element(c).radius - e.radius), 0.15 * e.radius + 1e-12) << e.symbol << " -> " << element(c).symbol;
      bool shared = false;
      for (int s : e.oxidation_states)
        for (int t : element(c).oxidation_states) shared = shared || s == t;
      EXPECT_TRUE(shared) << e.symbol << " -> " << element(c).symbol;
    }
  }
  // Na (1.80, +1): K is 2.20 (too large); Zn (1.35, +2): Mg? 1.50 within 15%, shares +2.
  const std::vector<int> zn = substitutes(30, 0.15);
  EXPECT_NE(std::find(zn.begin(), zn.end(), 12), zn.end());
  EXPECT_TRUE(substitutes(2, 0.15).empty());   // He: no oxidation states
  EXPECT_TRUE(substitutes(85, 0.15).empty());  // At: no radius
  EXPECT_TRUE(substitutes(26, 0).empty() || substitutes(26, 0).size() < substitutes(26, 0.15).size());
}

TEST(Substitution, RescaledStructuresTouchAtTheSumOfRadii) {
  Structure s;
  s.name = "NaCl";
  s.lattice = lattice_from_parameters({5.64, 5.64, 5.64, 90, 90, 90});
  s.species = {11, 17};
  s.frac = {{0, 0, 0}, {0.5, 0.5, 0.5}};  // Na-Cl at a sqrt(3)/2 (CsCl-like), Na-Na at a
  const Structure r = rescale_to_radii(s);
  EXPECT_NEAR(contact_ratio(r), 1, 1e-12);
  // Na-Na (a / 3.60) is tighter than Na-Cl (a sqrt(3)/2 / 2.80): a' = 1.80 + 1.80.
  EXPECT_NEAR(lattice_parameters(r.lattice).a, 3.60, 1e-12);
  s.species = {3, 53};  // Li (1.45) I (1.40): now Li-I binds, sqrt(3)/2 a' = 1.45 + 1.40
  EXPECT_NEAR(lattice_parameters(rescale_to_radii(s).lattice).a, 2.85 * 2 / std::sqrt(3.0), 1e-12);
  EXPECT_EQ(r.frac, s.frac);
}

TEST(Substitution, SetIsSeededDistinctAndKeepsThePrototypesHeldOut) {
  const std::vector<Structure> prototypes = read_pymatgen_json(kDir + "aflow_subset.json");
  SubstitutionOptions o;
  o.per_prototype = 6;
  o.seed = 11;
  const SubstitutionSet a = substitution_set(prototypes, o);
  const SubstitutionSet b = substitution_set(prototypes, o);
  ASSERT_EQ(a.held_out.size(), prototypes.size());
  EXPECT_EQ(a.over_max_atoms, 0);
  EXPECT_GT(a.train.size(), 10u);
  ASSERT_EQ(a.train.size(), b.train.size());
  std::set<std::string> names;
  for (size_t i = 0; i < a.train.size(); ++i) {
    const Structure& s = a.train[i];
    EXPECT_EQ(s.name, b.train[i].name);
    EXPECT_EQ(s.species, b.train[i].species);
    EXPECT_TRUE(names.insert(s.name).second) << "repeated " << s.name;
    EXPECT_NEAR(contact_ratio(s), 1, 1e-9) << s.name;
    EXPECT_GT(min_interatomic_distance(s), 0.5) << s.name;
    // Not a prototype itself: some element changed.
    const std::string prototype = s.name.substr(0, s.name.find(':'));
    bool found = false;
    for (const Structure& p : a.held_out)
      if (p.name == prototype) {
        found = true;
        EXPECT_EQ(p.size(), s.size());
        EXPECT_NE(p.species, s.species);
      }
    EXPECT_TRUE(found) << s.name;
  }
  o.seed = 12;
  const SubstitutionSet c = substitution_set(prototypes, o);
  bool differs = c.train.size() != a.train.size();
  for (size_t i = 0; !differs && i < a.train.size(); ++i) differs = a.train[i].name != c.train[i].name;
  EXPECT_TRUE(differs);
  // The held-out prototypes are the prototypes, in canonical order.
  EXPECT_EQ(a.held_out[0].species, canonical(prototypes[0]).species);
  EXPECT_EQ(a.held_out[0].lattice, prototypes[0].lattice);
  o.max_atoms = 6;
  const SubstitutionSet small = substitution_set(prototypes, o);
  EXPECT_EQ(small.over_max_atoms, 1);  // the 10-atom one
  EXPECT_EQ(small.held_out.size(), 4u);
  for (const Structure& s : small.train) EXPECT_LE(s.size(), 6);
}

}  // namespace
}  // namespace elbo::data
