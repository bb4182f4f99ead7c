#include "elbo/data/csv.h"

#include "data/temp_files.h"
#include "support/installed_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace {

using elbo::data::CsvOptions;
using elbo::data::read_csv;
using elbo::test::TempDir;
using ::testing::HasSubstr;

std::string error_of(const std::string& path, const CsvOptions& options = {}) {
  try {
    read_csv(path, options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_csv(" << path << ") did not throw";
  return "";
}

torch::Tensor f32(std::vector<float> v, int64_t rows) {
  return torch::tensor(v, torch::kFloat32).view({rows, -1});
}

TEST(ReadCsv, ParsesValuesAndDetectsHeader) {
  TempDir dir;
  const auto path = dir.write("a.csv", "a, b ,c\n1,2.5,-3\n 4e2 , +5,0.125\n");
  const auto d = read_csv(path);
  EXPECT_TRUE(torch::equal(d.x, f32({1, 2.5, -3, 400, 5, 0.125}, 2)));
  EXPECT_FALSE(d.mask.defined());
  EXPECT_FALSE(d.y.defined());
  EXPECT_EQ(d.name, path);
}

TEST(ReadCsv, NumericFirstRowIsDataInAutoMode) {
  TempDir dir;
  const auto d = read_csv(dir.write("a.csv", "1,2\n3,4"));
  EXPECT_TRUE(torch::equal(d.x, f32({1, 2, 3, 4}, 2)));
}

TEST(ReadCsv, HeaderYesAndNo) {
  TempDir dir;
  const auto numeric = dir.write("n.csv", "1,2\n3,4\n");
  CsvOptions yes;
  yes.header = "yes";
  EXPECT_TRUE(torch::equal(read_csv(numeric, yes).x, f32({3, 4}, 1)));
  CsvOptions no;
  no.header = "no";
  EXPECT_THAT(error_of(dir.write("h.csv", "x,y\n1,2\n"), no),
              HasSubstr("h.csv: line 1, column 1: cannot parse 'x' as a number"));
  CsvOptions bad;
  bad.header = "maybe";
  EXPECT_THAT(error_of(numeric, bad), HasSubstr("header must be \"auto\", \"yes\" or \"no\" (got \"maybe\")"));
}

TEST(ReadCsv, MissingCellsAreMasked) {
  TempDir dir;
  const auto d = read_csv(dir.write("m.csv", "1,,3\nNA,5,?\nnan,8, NaN \n"));
  EXPECT_TRUE(torch::equal(d.x, f32({1, 0, 3, 0, 5, 0, 0, 8, 0}, 3)));
  ASSERT_TRUE(d.mask.defined());
  EXPECT_TRUE(torch::equal(d.mask, f32({1, 0, 1, 0, 1, 0, 0, 1, 0}, 3)));
}

TEST(ReadCsv, CustomMissingTokens) {
  TempDir dir;
  CsvOptions o;
  o.missing = {"-999"};
  const auto d = read_csv(dir.write("m.csv", "1,-999\n2,3\n"), o);
  EXPECT_TRUE(torch::equal(d.mask, f32({1, 0, 1, 1}, 2)));
  EXPECT_THAT(error_of(dir.write("n.csv", "1,2\n1,NA\n"), o), HasSubstr("line 2, column 2: cannot parse 'NA' as a number"));
}

TEST(ReadCsv, ToleratesCrlfBlankLinesAndWhitespace) {
  TempDir dir;
  const auto d = read_csv(dir.write("w.csv", "\r\n a ,b\r\n\r\n1 ,\t2\r\n   \r\n3,4\r\n\r\n"));
  EXPECT_TRUE(torch::equal(d.x, f32({1, 2, 3, 4}, 2)));
  EXPECT_FALSE(d.mask.defined());
}

TEST(ReadCsv, QuotedCells) {
  TempDir dir;
  const auto d = read_csv(dir.write("q.csv", "\"size, cm\",\"say \"\"hi\"\"\"\n\"1.5\",2\n"));
  EXPECT_TRUE(torch::equal(d.x, f32({1.5, 2}, 1)));
}

TEST(ReadCsv, OtherDelimiters) {
  TempDir dir;
  CsvOptions semi;
  semi.delimiter = ';';
  EXPECT_TRUE(torch::equal(read_csv(dir.write("s.csv", "1;2\n3;4\n"), semi).x, f32({1, 2, 3, 4}, 2)));
  CsvOptions tab;
  tab.delimiter = '\t';
  const auto d = read_csv(dir.write("t.tsv", "1\t\t2\n3\t4\t5\n"), tab);
  EXPECT_TRUE(torch::equal(d.mask, f32({1, 0, 1, 1, 1, 1}, 2)));
}

TEST(ReadCsv, LabelColumn) {
  TempDir dir;
  const auto path = dir.write("l.csv", "f1,label,f2\n0.5,2,1\n1.5,0,2\n2.5,+1,3\n3.5,4.0,4\n");
  CsvOptions o;
  o.label_column = 1;
  auto d = read_csv(path, o);
  EXPECT_TRUE(torch::equal(d.x, f32({0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4}, 4)));
  EXPECT_EQ(d.y.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({2, 0, 1, 4}, torch::kInt64)));
  o.label_column = -2;
  EXPECT_TRUE(torch::equal(read_csv(path, o).y, d.y));
  o.label_column = -1;
  d = read_csv(path, o);
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({1, 2, 3, 4}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(d.x.select(1, 1), torch::tensor({2.f, 0.f, 1.f, 4.f})));
}

TEST(ReadCsv, LabelErrors) {
  TempDir dir;
  CsvOptions o;
  o.label_column = -1;
  EXPECT_THAT(error_of(dir.write("f.csv", "1,2\n3,1.5\n"), o), HasSubstr("f.csv: line 2, column 2: label '1.5' is not an integer"));
  EXPECT_THAT(error_of(dir.write("m.csv", "1,2\n3,NA\n"), o), HasSubstr("line 2, column 2: the label is missing"));
  o.label_column = 2;
  EXPECT_THAT(error_of(dir.write("r.csv", "1,2\n"), o), HasSubstr("label_column 2 is out of range for 2 columns"));
  o.label_column = -3;
  EXPECT_THAT(error_of(dir.write("r.csv", "1,2\n"), o), HasSubstr("label_column -3 is out of range"));
  o.label_column = 0;
  EXPECT_THAT(error_of(dir.write("one.csv", "1\n2\n"), o), HasSubstr("no feature columns"));
}

TEST(ReadCsv, RaggedRow) {
  TempDir dir;
  CsvOptions o;
  o.skip_rows = 1;
  const auto path = dir.write("r.csv", "meta\nh1,h2,h3\n1,2,3\n\n4,5\n");
  EXPECT_THAT(error_of(path, o), HasSubstr(path + ": line 5 has 2 cells, expected 3 (from line 2)"));
}

TEST(ReadCsv, NonNumericCell) {
  TempDir dir;
  const auto path = dir.write("n.csv", "a,b,c\n1,2,3\n4,abc,6\n");
  EXPECT_THAT(error_of(path), HasSubstr(path + ": line 3, column 2: cannot parse 'abc' as a number"));
  EXPECT_THAT(error_of(dir.write("p.csv", "1,2\n1,2x\n")), HasSubstr("line 2, column 2: cannot parse '2x' as a number"));
  EXPECT_THAT(error_of(dir.write("c.csv", "1,2,3\n1,\"2,5\",3\n")), HasSubstr("line 2, column 2: cannot parse '2,5'"));
}

TEST(ReadCsv, NonFiniteValues) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.write("i.csv", "1,2\n3,inf\n")), HasSubstr("line 2, column 2: value 'inf' is not finite"));
  EXPECT_THAT(error_of(dir.write("m.csv", "-inf,2\n")), HasSubstr("line 1, column 1: value '-inf' is not finite"));
  EXPECT_THAT(error_of(dir.write("e.csv", "1,2\n1e999,0\n")), HasSubstr("line 2, column 1: value '1e999' is not finite"));
  EXPECT_THAT(error_of(dir.write("f.csv", "1e300\n")), HasSubstr("line 1, column 1: value '1e300' is outside the float32 range"));
  CsvOptions o;
  o.missing = {};
  EXPECT_THAT(error_of(dir.write("n.csv", "1,nan\n"), o), HasSubstr("line 1, column 2: value 'nan' is not finite"));
  EXPECT_EQ(read_csv(dir.write("u.csv", "1e-999,1\n")).x[0][0].item<float>(), 0.0f);
}

TEST(ReadCsv, EmptyAndHeaderOnly) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.write("e.csv", "")), HasSubstr("e.csv: empty file"));
  EXPECT_THAT(error_of(dir.write("b.csv", "\n \r\n")), HasSubstr("b.csv: empty file"));
  EXPECT_THAT(error_of(dir.write("h.csv", "a,b,c\n")), HasSubstr("h.csv: no data rows"));
  CsvOptions o;
  o.skip_rows = 5;
  EXPECT_THAT(error_of(dir.write("s.csv", "1\n2\n"), o), HasSubstr("no data rows"));
  EXPECT_THAT(error_of(dir.path("absent.csv")), HasSubstr("absent.csv: cannot open CSV file"));
}

TEST(ReadCsv, ScikitLearnWine) {
  const std::string path = elbo::test::kSklearnData + "wine_data.csv";
  ELBO_REQUIRE_INSTALLED(path, "python3-sklearn");
  CsvOptions o;
  o.skip_rows = 1;
  o.header = "no";
  o.label_column = -1;
  const auto d = read_csv(path, o);
  EXPECT_EQ(d.x.sizes().vec(), (std::vector<int64_t>{178, 13}));
  EXPECT_TRUE(torch::equal(d.y.bincount(), torch::tensor({59, 71, 48}, torch::kInt64)));
  EXPECT_FLOAT_EQ(d.x[0][0].item<float>(), 14.23f);
  EXPECT_FLOAT_EQ(d.x[0][12].item<float>(), 1065.f);
  EXPECT_FALSE(d.mask.defined());
}

TEST(ReadCsv, ScikitLearnBreastCancer) {
  const std::string path = elbo::test::kSklearnData + "breast_cancer.csv";
  ELBO_REQUIRE_INSTALLED(path, "python3-sklearn");
  CsvOptions o;
  o.skip_rows = 1;
  o.label_column = -1;
  const auto d = read_csv(path, o);
  EXPECT_EQ(d.x.sizes().vec(), (std::vector<int64_t>{569, 30}));
  EXPECT_TRUE(torch::equal(d.y.bincount(), torch::tensor({212, 357}, torch::kInt64)));
}

}  // namespace
