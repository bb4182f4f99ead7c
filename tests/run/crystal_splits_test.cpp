// The structures of a crystal run's splits (elbo export --format cif): the rows the run trains and tests
// on, turned back into structures, in order and named by split.
#include "elbo/run/crystal_splits.h"

#include "elbo/data/crystal_rows.h"
#include "elbo/data/load.h"

#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo::run {
namespace {

/// Four two-atom prototypes (NaCl, CsCl, MgO, KBr), three substitutions each, two held for validation.
Config substituted() {
  Config c;
  c.set("data.format=\"crystals\"");
  c.set("model.type=\"crystal\"");
  c.set("data.dir=\"\"");
  c.set("data.train=\"" + std::string(ELBO_SOURCE_DIR) + "/tests/bad_inputs/cif/good.cif\"");
  c.set("data.test=\"\"");
  c.set("data.substitutions=3");
  c.set("data.max_atoms=4");
  c.set("data.validation=2");
  return c;
}

TEST(CrystalSplits, EachSplitIsItsRowsAsStructuresInOrder) {
  const Config c = substituted();
  const data::Splits rows = data::load_data(c);
  for (const auto& [split, d] : {std::pair<std::string, const data::Dataset*>{"train", &rows.train},
                                 {"validation", &rows.validation}, {"test", &rows.test}}) {
    const std::vector<data::Structure> s = split_structures(c, split);
    ASSERT_EQ(static_cast<int64_t>(s.size()), d->size()) << split;
    ASSERT_GT(s.size(), 0u) << split;
    EXPECT_EQ(s.front().name, split + "1");
    EXPECT_EQ(s.back().name, split + std::to_string(s.size()));
    // Back to rows: the same numbers (canonical order kept, float32 rounding only).
    EXPECT_TRUE(torch::allclose(data::crystal_rows(s, 4), d->x, 1e-5, 1e-5)) << split;
  }
  EXPECT_EQ(rows.validation.size(), 2);
  // The test split is the prototypes, unchanged and in file order.
  const std::vector<data::Structure> test = split_structures(c, "test");
  ASSERT_EQ(test.size(), 4u);
  EXPECT_EQ(data::formula(test[0]), "NaCl");
  EXPECT_EQ(data::formula(test[3]), "KBr");
  EXPECT_NEAR(data::volume(test[0].lattice), 5.64 * 5.64 * 5.64, 1e-3);
}

TEST(CrystalSplits, RefusesOtherSplitsAndRuns) {
  test::expect_invalid_argument([] { split_structures(substituted(), "training"); },
                                {"'training' is not a split", "train, validation, test"});
  test::expect_invalid_argument([] { split_structures(Config(), "train"); }, {"not a crystal run", "data.format"});
}

}  // namespace
}  // namespace elbo::run
