// [[data.modalities]]: the config's table arrays, reading modalities side by side (absent rows,
// presence columns, column choices, IDX crops), the checks on each likelihood's values, and the
// data flow into splits with per-modality standardization.
#include "elbo/core/config.h"
#include "elbo/data/load.h"
#include "elbo/data/multimodal.h"

#include "support/throws.h"
#include "temp_files.h"

#include <gtest/gtest.h>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

/// A config of two CSV modalities in `dir`: "expr" (gaussian, columns g1-g3) and "counts" (poisson).
Config two_modalities(const std::string& dir) {
  return Config::from_toml("[data]\ndir = \"" + dir + "\"\ntest_fraction = 0.25\nvalidation = 0\n"
                           "[[data.modalities]]\nname = \"expr\"\nfile = \"expr.csv\"\nstandardize = true\n"
                           "[[data.modalities]]\nname = \"counts\"\nfile = \"counts.csv\"\nlikelihood = \"poisson\"\n"
                           "[model]\ntype = \"multimodal\"\n");
}

TEST(ConfigTableArrays, ReadSetWriteAndReadBack) {
  test::TempDir dir;
  Config c = two_modalities(dir.path(""));
  ASSERT_EQ(c.count("data.modalities"), 2);
  EXPECT_EQ(c.get_string("data.modalities[1].likelihood"), "poisson");
  EXPECT_EQ(c.get_string("data.modalities[0].likelihood"), "gaussian");  // the default
  c.set("data.modalities[1].likelihood=negative_binomial");
  const Config back = Config::from_toml(c.to_toml());
  EXPECT_EQ(back.count("data.modalities"), 2);
  EXPECT_EQ(back.get_string("data.modalities[1].likelihood"), "negative_binomial");
  EXPECT_EQ(back.to_toml(), c.to_toml());
  expect_invalid_argument([&] { c.set("data.modalities[2].name=x"); }, {"data.modalities[2].name", "has 2"});
  expect_invalid_argument([&] { c.set("data.modalities[0].nmae=x"); }, {"unknown key", "data.modalities[].name"});
  expect_invalid_argument([&] { Config::from_toml("[data]\nmodalities = 3\n"); }, {"data.modalities", "array of tables"});
}

TEST(Modalities, ReadSideBySideWithAbsentRowsPresenceAndColumns) {
  test::TempDir dir;
  dir.write("expr.csv", "g1,g2,g3\n1,2,3\n,,\n4,5,6\n7,,9\n");
  dir.write("counts.csv", "measured,c1,c2\n1,0,5\n1,2,2\n0,9,9\n1,1,0\n");
  Config c = two_modalities(dir.path(""));
  c.set("data.modalities[1].presence_column=measured");
  c.set("data.modalities[0].columns=g1,3");
  const Dataset d = read_modalities(c, false);
  ASSERT_EQ(d.modalities.size(), 2u);
  EXPECT_EQ(d.modalities[0].width, 2);
  EXPECT_EQ(d.modalities[1].begin, 2);
  EXPECT_EQ(d.modalities[1].width, 2);
  EXPECT_TRUE(torch::equal(d.x[0], torch::tensor({1.0f, 3.0f, 0.0f, 5.0f})));
  // Row 2 lacks expr (all cells empty), row 3 lacks counts (presence 0), row 4 lacks g2 only.
  EXPECT_TRUE(torch::equal(present(d.mask, d.modalities[0], 4), torch::tensor({true, false, true, true})));
  EXPECT_TRUE(torch::equal(present(d.mask, d.modalities[1], 4), torch::tensor({true, true, false, true})));
  EXPECT_EQ(d.feature_names[1], "expr:g3");
}

TEST(Modalities, RefuseMisalignedRowsRepeatedNamesBadValuesAndEmptyRows) {
  test::TempDir dir;
  dir.write("expr.csv", "g1\n1\n2\n3\n");
  dir.write("counts.csv", "c1\n1\n2\n");
  Config c = two_modalities(dir.path(""));
  expect_invalid_argument([&] { read_modalities(c, false); }, {"'counts'", "counts.csv", "2 rows", "'expr'", "3"});
  dir.write("counts.csv", "c1\n1\n-2\n4\n");
  expect_invalid_argument([&] { read_modalities(c, false); },
                          {"modality 'counts'", "counts.csv", "poisson", "non-negative integer", "row 2", "'c1'", "-2"});
  dir.write("counts.csv", "c1,c2\n1,2\n,\n4,5\n");
  dir.write("expr.csv", "g1\n1\nNA\n3\n");
  expect_invalid_argument([&] { read_modalities(c, false); }, {"1 row of the training files has no modality", "row 2"});
  c.set("data.modalities[1].name=expr");
  expect_invalid_argument([&] { read_modalities(c, false); }, {"data.modalities[1].name", "'expr' is used twice"});
}

TEST(Modalities, SplitsStandardizeOnlyTheirModalities) {
  test::TempDir dir;
  std::string expr = "g1,g2\n", counts = "c1\n";
  for (int i = 0; i < 40; ++i) {
    expr += std::to_string(10 + i) + "," + std::to_string(-3 * i) + "\n";
    counts += std::to_string(i % 7) + "\n";
  }
  dir.write("expr.csv", expr);
  dir.write("counts.csv", counts);
  const Splits s = load_data(two_modalities(dir.path("")));
  EXPECT_EQ(s.train.size() + s.test.size(), 40);
  EXPECT_NEAR(s.train.x.narrow(1, 0, 2).mean().item<double>(), 0.0, 1e-5);
  EXPECT_EQ(s.standardization.std[2].item<double>(), 1.0);  // counts are left as they are
  EXPECT_TRUE(torch::equal(s.train.x.select(1, 2), s.train.x.select(1, 2).round()));
  EXPECT_EQ(s.test.modalities.size(), 2u);
}

TEST(Modalities, FindNamesAListAndRefusesUnknownOrRepeated) {
  std::vector<Modality> layout{{"left", 0, 2}, {"right", 2, 2}, {"label", 4, 1}};
  EXPECT_EQ(find_modalities(layout, "right,left", "--from"), (std::vector<size_t>{1, 0}));
  expect_invalid_argument([&] { find_modalities(layout, "up", "--to"); },
                          {"--to", "'up' names no modality", "left, right, label"});
  expect_invalid_argument([&] { find_modalities(layout, "left,left", "--from"); }, {"'left' is named twice"});
}

}  // namespace
}  // namespace elbo::data
