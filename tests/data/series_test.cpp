// Time series (data.format = "series") and regression targets (data.target_columns): windows,
// the held-out tail, differencing and standardization, gaps and unordered times refused or filled.
#include "elbo/core/config.h"
#include "elbo/data/load.h"
#include "elbo/data/series.h"

#include "support/throws.h"
#include "temp_files.h"

#include <gtest/gtest.h>

namespace elbo::data {
namespace {

using test::expect_invalid_argument;

Config series_config(const std::string& dir, const std::string& extra = "") {
  return Config::from_toml("[data]\nformat = \"series\"\ndir = \"" + dir + "\"\ntrain = \"s.csv\"\ntest = \"\"\n"
                           "train_labels = \"\"\ntest_labels = \"\"\nvalidation = 0\ntime_column = \"t\"\n"
                           "value_columns = \"v\"\ntest_from = 6\nwindow = 3\n" + extra +
                           "[model]\ntype = \"brnn\"\nhidden = [4]\n");
}

TEST(Series, WindowsTheTrainingRowsAndHoldsOutTheTail) {
  test::TempDir dir;
  dir.write("s.csv", "t,other,v\n1,9,1\n2,9,3\n3,9,2\n4,9,5\n5,9,4\n6,9,7\n7,9,6\n");
  const Config c = series_config(dir.path(""));
  const Series s = read_series(c);
  EXPECT_EQ(s.train_end, 5);
  EXPECT_EQ(s.names, std::vector<std::string>{"v"});
  const SeriesScale scale = series_scale(s, false);
  EXPECT_NEAR(scale.mean.item<double>(), 3.0, 1e-12);  // the training rows 1, 3, 2, 5, 4
  const Splits splits = load_data(c);
  ASSERT_EQ(splits.train.size(), 3);  // windows starting at rows 1, 2, 3 of the 5 training rows
  const torch::Tensor z = (torch::tensor({1.0, 3.0, 2.0}) - 3.0) / scale.std.item<double>();
  EXPECT_TRUE(torch::allclose(splits.train.x.select(0, 0).to(torch::kDouble), z.to(torch::kDouble), 1e-5, 1e-6)) << splits.train.x;
  // The test windows end in the held-out rows (6 and 7): the last two windows of the series.
  ASSERT_EQ(splits.test.size(), 1);
  EXPECT_NEAR(splits.test.x[0][2].item<double>() * scale.std.item<double>() + 3, 6.0, 1e-5);
}

TEST(Series, DifferencesAreSummedBackIntoValues) {
  test::TempDir dir;
  dir.write("s.csv", "t,v\n1,10\n2,12\n3,11\n4,15\n5,16\n6,20\n7,19\n8,25\n");
  const Config c = series_config(dir.path(""), "difference = 1\n");
  const Series s = read_series(c);
  const SeriesScale first = series_scale(s, 1);
  const torch::Tensor z = first.to_model(s.values);  // differences 2, -1, 4, 1, 4, -1, 6
  EXPECT_EQ(z.size(0), 7);
  // The differences of rows 6..8 continue the first five rows' values: 16 + 4 = 20, 20 - 1 = 19, 19 + 6 = 25.
  const torch::Tensor back = first.to_file(z.slice(0, 4).unsqueeze(0), s.values.slice(0, 0, 5));  // [1, 3, 1]
  EXPECT_TRUE(torch::allclose(back.view(-1), torch::tensor({20.0, 19.0, 25.0}, torch::kDouble), 1e-9, 1e-9)) << back;
  // At lag 2 each value continues the one two rows before it, from the history or from the path.
  const SeriesScale seasonal = series_scale(s, 2);
  const torch::Tensor z2 = seasonal.to_model(s.values);  // 1, 3, 5, 5, 3, 5
  EXPECT_EQ(z2.size(0), 6);
  const torch::Tensor back2 = seasonal.to_file(z2.slice(0, 3).unsqueeze(0), s.values.slice(0, 0, 5));
  EXPECT_TRUE(torch::allclose(back2.view(-1), torch::tensor({20.0, 19.0, 25.0}, torch::kDouble), 1e-9, 1e-9)) << back2;
}

TEST(Series, RefusesUnorderedTimesAndGapsUnlessFilled) {
  test::TempDir dir;
  dir.write("s.csv", "t,v\n1,1\n2,2\n2,3\n4,4\n5,5\n6,6\n");
  expect_invalid_argument([&] { read_series(series_config(dir.path(""))); }, {"s.csv:4", "does not increase"});
  dir.write("s.csv", "t,v\n1,1\n2,\n3,3\n4,4\n5,5\n6,6\n");
  expect_invalid_argument([&] { read_series(series_config(dir.path(""))); }, {"s.csv:3", "'v' is missing", "data.fill"});
  const Series s = read_series(series_config(dir.path(""), "fill = \"linear\"\n"));
  EXPECT_EQ(s.filled, 1);
  EXPECT_NEAR(s.values[1][0].item<double>(), 2.0, 1e-12);
  dir.write("s.csv", "t,v\n1,1\n2,2\n");
  expect_invalid_argument([&] { read_series(series_config(dir.path(""))); }, {"fewer than one window"});
}

TEST(TargetColumns, MoveOutOfTheInputsAndAreStandardizedWithTheInputs) {
  test::TempDir dir;
  dir.write("r.csv", "a,y,b\n1,10,2\n2,20,4\n3,30,6\n4,40,8\n5,50,10\n");
  const Config c = Config::from_toml("[data]\nformat = \"csv\"\ndir = \"" + dir.path("") +
                                     "\"\ntrain = \"r.csv\"\ntest = \"\"\ntrain_labels = \"\"\ntest_labels = \"\"\n"
                                     "test_fraction = 0.2\nvalidation = 0\ntarget_columns = \"y\"\nstandardize = true\n");
  const Splits s = load_data(c);
  EXPECT_EQ(s.train.features(), 2);
  EXPECT_EQ(s.train.feature_names, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(s.train.target.defined());
  EXPECT_NEAR(s.train.target.mean().item<double>(), 0.0, 1e-6);
  ASSERT_TRUE(s.target_standardization.mean.defined());
  // x = y / 10 * (1, 2): standardized targets equal the standardized first column.
  EXPECT_TRUE(torch::allclose(s.train.target.squeeze(1), s.train.x.select(1, 0), 1e-5, 1e-5));
  dir.write("p.csv", "a,b\n1,2\n");
  const Dataset rows = read_examples(c, dir.path("p.csv"));  // rows to predict may lack the target
  EXPECT_FALSE(rows.target.defined());
  dir.write("r.csv", "a,y,b\n1,10,2\n2,,4\n3,30,6\n4,40,8\n5,50,10\n");
  expect_invalid_argument([&] { load_data(c); }, {"example 2", "data.target_columns"});
}

}  // namespace
}  // namespace elbo::data
