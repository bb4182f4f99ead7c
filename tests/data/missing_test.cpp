// Hiding entries of complete data (data.missing): each pattern hides what it says, seeded,
// keeps the true values for scoring and never shows them to a model; errors name the key.
#include "elbo/data/csv.h"
#include "elbo/data/load.h"
#include "elbo/data/missing.h"

#include "data/temp_files.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace elbo::data {
namespace {

using elbo::test::expect_invalid_argument;

Dataset table(int64_t n, int64_t d) {
  Dataset t;
  t.x = torch::arange(1, n * d + 1, torch::kFloat).view({n, d});
  t.name = "table";
  t.feature_names.clear();
  for (int64_t j = 0; j < d; ++j) t.feature_names.push_back("c" + std::to_string(j + 1));
  return t;
}

Dataset images(int64_t n, int64_t channels, int64_t h, int64_t w) {
  Dataset t;
  t.x = torch::ones({n, channels * h * w}, torch::kUInt8) * 200;
  t.image = {channels, h, w};
  t.name = "images";
  return t;
}

MissingOptions pattern(const std::string& name) {
  MissingOptions o;
  o.pattern = name;
  return o;
}

TEST(HideEntries, McarHidesTheRateSeededAndKeepsTheTruth) {
  const Dataset d = table(2000, 10);
  MissingOptions o = pattern("mcar");
  o.rate = 0.3;
  const Dataset h = hide_entries(d, o, 1);
  const double n = 20000, hidden = h.hidden.sum().item<double>();
  EXPECT_NEAR(hidden / n, 0.3, 5 * std::sqrt(0.3 * 0.7 / n));
  EXPECT_TRUE(torch::equal(h.mask + h.hidden, torch::ones({2000, 10})));
  EXPECT_TRUE(torch::equal(h.x, d.x));  // the true values stay
  EXPECT_TRUE(torch::equal(hide_entries(d, o, 1).mask, h.mask));  // seeded
  EXPECT_FALSE(torch::equal(hide_entries(d, o, 2).mask, h.mask));  // each split its own masks
  // Models never see them: batches and slices hold 0 where hidden.
  const Batch b = h.slice(0, 2000);
  EXPECT_EQ(b.x.masked_select(h.hidden > 0).abs().sum().item<double>(), 0);
  EXPECT_TRUE(torch::equal(b.x.masked_select(h.mask > 0), d.x.masked_select(h.mask > 0)));
  const Batch g = h.batch(torch::tensor({5, 3}, torch::kLong));
  EXPECT_TRUE(torch::equal(g.x, b.x.index_select(0, torch::tensor({5, 3}, torch::kLong))));
}

TEST(HideEntries, OnlyObservedEntriesAreHidden) {
  Dataset d = table(500, 4);
  d.mask = torch::ones({500, 4});
  d.mask.select(1, 0).zero_();  // column 1 already missing: no true value to keep
  MissingOptions o = pattern("mcar");
  o.rate = 0.5;
  const Dataset h = hide_entries(d, o, 1);
  EXPECT_EQ(h.hidden.select(1, 0).sum().item<double>(), 0);
  EXPECT_EQ(h.mask.select(1, 0).sum().item<double>(), 0);
  EXPECT_GT(h.hidden.sum().item<double>(), 0);
}

TEST(HideEntries, BlockHidesOneSquarePerImage) {
  const Dataset d = images(50, 2, 10, 12);
  MissingOptions o = pattern("block");
  o.block = 4;
  const Dataset h = hide_entries(d, o, 3);
  const torch::Tensor hidden = h.hidden.view({50, 2, 10, 12});
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_TRUE(torch::equal(hidden[i][0], hidden[i][1]));  // every channel of the square
    const torch::Tensor cells = hidden[i][0].nonzero();      // [16, 2]
    ASSERT_EQ(cells.size(0), 16);
    EXPECT_EQ((cells.select(1, 0).max() - cells.select(1, 0).min()).item<int64_t>(), 3);
    EXPECT_EQ((cells.select(1, 1).max() - cells.select(1, 1).min()).item<int64_t>(), 3);
  }
  // The places differ between images.
  EXPECT_FALSE(torch::equal(hidden[0], hidden[1]) && torch::equal(hidden[1], hidden[2]) && torch::equal(hidden[2], hidden[3]));
}

TEST(HideEntries, BottomHalfHidesTheLowerRows) {
  const Dataset h = hide_entries(images(3, 1, 7, 5), pattern("bottom_half"), 1);
  const torch::Tensor hidden = h.hidden.view({3, 7, 5});
  EXPECT_EQ(hidden.slice(1, 0, 3).sum().item<double>(), 0);
  EXPECT_EQ(hidden.slice(1, 3, 7).sum().item<double>(), 3 * 4 * 5);
  // 8-bit images: batches get 0 for the hidden pixels, the true 200/255 elsewhere.
  const Batch b = h.slice(0, 3);
  EXPECT_EQ(b.x.view({3, 7, 5}).slice(1, 3).abs().sum().item<double>(), 0);
  EXPECT_NEAR(b.x.view({3, 7, 5}).slice(1, 0, 3).mean().item<double>(), 200.0 / 255, 1e-6);
}

TEST(HideEntries, RowsFractionLeavesTheOtherExamplesComplete) {
  MissingOptions o = pattern("bottom_half");
  o.rows = 0.25;
  const Dataset h = hide_entries(images(4000, 1, 4, 4), o, 1);
  const torch::Tensor per_row = h.hidden.sum(1);
  EXPECT_TRUE(((per_row == 0) | (per_row == 8)).all().item<bool>());  // the whole bottom half or nothing
  EXPECT_NEAR((per_row > 0).to(torch::kDouble).mean().item<double>(), 0.25, 5 * std::sqrt(0.25 * 0.75 / 4000));
  o.rows = 0;
  expect_invalid_argument([&] { hide_entries(images(2, 1, 4, 4), o, 1); }, {"data.missing_rows = 0", "(0, 1]"});
}

TEST(HideEntries, ColumnsByNameOrIndex) {
  MissingOptions o = pattern("columns");
  o.columns = "c2, 4";
  const Dataset h = hide_entries(table(6, 5), o, 1);
  EXPECT_TRUE(torch::equal(h.hidden.sum(0), torch::tensor({0.f, 6.f, 0.f, 6.f, 0.f})));
}

TEST(HideEntries, ClearErrors) {
  MissingOptions o = pattern("columns");
  o.columns = "c9";
  expect_invalid_argument([&] { hide_entries(table(6, 5), o, 1); }, {"data.missing_columns", "'c9'", "c1, c2"});
  o.columns = "6";
  expect_invalid_argument([&] { hide_entries(table(6, 5), o, 1); }, {"data.missing_columns", "column 6", "1..5"});
  o.columns = "1,2,3,4,5";
  expect_invalid_argument([&] { hide_entries(table(6, 5), o, 1); }, {"hides every observed entry"});
  o = pattern("mcar");
  o.rate = 1.0;
  expect_invalid_argument([&] { hide_entries(table(6, 5), o, 1); }, {"data.missing_rate = 1", "[0, 1)"});
  expect_invalid_argument([&] { hide_entries(table(6, 5), pattern("block"), 1); },
                          {"data.missing = \"block\" needs image data"});
  o = pattern("block");
  o.block = 11;
  expect_invalid_argument([&] { hide_entries(images(2, 1, 10, 12), o, 1); }, {"data.missing_block = 11", "1..10"});
}

TEST(DropEmptyRows, DropsAndCounts) {
  Dataset d = table(4, 2);
  d.mask = torch::tensor({{1.f, 0.f}, {0.f, 0.f}, {0.f, 1.f}, {0.f, 0.f}});
  const Dataset kept = drop_empty_rows(d);
  EXPECT_EQ(kept.size(), 2);
  EXPECT_EQ(kept.rows_dropped, 2);
  EXPECT_TRUE(torch::equal(kept.x, d.x.index_select(0, torch::tensor({0, 2}, torch::kLong))));
  d.mask.zero_();
  expect_invalid_argument([&] { drop_empty_rows(d); }, {"every entry of every row is missing"});
}

TEST(Standardize, UsesObservedEntriesAndKeepsTheHiddenTruthStandardized) {
  Dataset d;
  d.x = torch::tensor({{1.f, 10.f}, {3.f, 20.f}, {5.f, 30.f}, {7.f, 99.f}});
  d.mask = torch::tensor({{1.f, 1.f}, {1.f, 1.f}, {1.f, 0.f}, {0.f, 1.f}});
  d.hidden = torch::tensor({{0.f, 0.f}, {0.f, 0.f}, {0.f, 1.f}, {0.f, 0.f}});  // 30 hidden; 7 truly missing
  d.x[3][0] = 0;
  const Standardization s = standardize(d);
  EXPECT_NEAR(s.mean[0].item<double>(), 3.0, 1e-6);            // 1, 3, 5
  EXPECT_NEAR(s.mean[1].item<double>(), (10 + 20 + 99) / 3.0, 1e-4);  // 30 is hidden
  EXPECT_NEAR(d.x[2][1].item<double>(), (30 - s.mean[1].item<double>()) / s.std[1].item<double>(), 1e-5);
  EXPECT_EQ(d.x[3][0].item<double>(), 0);  // missing without a truth: 0
}

TEST(LoadData, EachSplitItsOwnMasksAndTheTestSplitAsLoadTestDataBuildsIt) {
  elbo::test::TempDir dir;
  std::ostringstream csv;
  csv << "a,b,c\n";
  for (int i = 0; i < 60; ++i) csv << i << "," << 2 * i << "," << (i % 7) << "\n";
  const std::string path = dir.write("t.csv", csv.str());
  Config c;
  c.set("data.format = \"csv\"");
  c.set("data.dir = \"\"");
  c.set("data.train = \"" + path + "\"");
  c.set("data.test = \"" + path + "\"");
  c.set("data.validation = 10");
  c.set("data.standardize = true");
  c.set("data.missing = \"mcar\"");
  c.set("data.missing_rate = 0.4");
  const Splits s = load_data(c);
  ASSERT_TRUE(s.train.hidden.defined() && s.validation.hidden.defined() && s.test.hidden.defined());
  const Dataset again = load_test_data(c);
  EXPECT_TRUE(torch::equal(again.mask, s.test.mask));
  EXPECT_TRUE(torch::allclose(again.x, s.test.x));
  EXPECT_EQ(s.test.feature_names, (std::vector<std::string>{"a", "b", "c"}));
  // The test split draws from its own stream (3), not the training split's (1).
  const Dataset raw = read_csv(path);
  const MissingOptions o = MissingOptions::from_config(c);
  EXPECT_TRUE(torch::equal(drop_empty_rows(hide_entries(raw, o, 3)).mask, s.test.mask));
  EXPECT_FALSE(torch::equal(drop_empty_rows(hide_entries(raw, o, 1)).mask, s.test.mask));
}

}  // namespace
}  // namespace elbo::data
