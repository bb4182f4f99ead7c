#include "elbo/data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace {

using namespace elbo::data;
using ::testing::HasSubstr;

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::invalid_argument thrown";
  return "";
}

Dataset toy(int64_t n, int64_t d) {
  Dataset data;
  data.x = torch::arange(n * d, torch::kFloat32).view({n, d});
  data.mask = (torch::arange(n * d).view({n, d}) % 3 != 0).to(torch::kFloat32);
  data.y = torch::arange(n, torch::kInt64) * 10;
  data.name = "toy";
  return data;
}

TEST(Binarization, Parse) {
  EXPECT_EQ(parse_binarization("none"), Binarization::none);
  EXPECT_EQ(parse_binarization("static"), Binarization::fixed);
  EXPECT_EQ(parse_binarization("dynamic"), Binarization::dynamic);
  EXPECT_THAT(error_of([] { parse_binarization("Dynamic"); }),
              HasSubstr("unknown binarization 'Dynamic' (valid: none, static, dynamic)"));
}

TEST(Dataset, BatchGathersRowsOfEveryTensor) {
  const auto data = toy(6, 4);
  const auto index = torch::tensor({4, 0, 4}, torch::kInt64);
  const auto b = data.batch(index);
  EXPECT_EQ(b.size(), 3);
  for (int64_t i = 0; i < 3; ++i) {
    const auto r = index[i].item<int64_t>();
    EXPECT_TRUE(torch::equal(b.x[i], data.x[r]));
    EXPECT_TRUE(torch::equal(b.mask[i], data.mask[r]));
    EXPECT_EQ(b.y[i].item<int64_t>(), 10 * r);
  }
  EXPECT_TRUE(torch::equal(data.batch(torch::tensor({1, 2}, torch::kInt32)).y, torch::tensor({10, 20}, torch::kInt64)));
  Dataset plain;
  plain.x = torch::rand({3, 2});
  const auto p = plain.batch(torch::tensor({2}, torch::kInt64));
  EXPECT_FALSE(p.mask.defined());
  EXPECT_FALSE(p.y.defined());
}

TEST(Dataset, BatchRejectsBadIndex) {
  const auto data = toy(6, 4);
  EXPECT_THAT(error_of([&] { data.batch(torch::tensor({0, 6}, torch::kInt64)); }),
              HasSubstr("index out of range [0, 6) (got 6)"));
  EXPECT_THAT(error_of([&] { data.batch(torch::tensor({-1}, torch::kInt64)); }), HasSubstr("(got -1)"));
  EXPECT_THAT(error_of([&] { data.batch(torch::tensor({0.5})); }), HasSubstr("index must hold integers"));
  EXPECT_THAT(error_of([&] { data.batch(torch::zeros({2, 2}, torch::kInt64)); }), HasSubstr("1-D"));
}

TEST(Dataset, DynamicBinarizationDrawsFreshBits) {
  Dataset data;
  data.x = torch::full({2000, 10}, 0.3f);
  data.dynamic_binarize = true;
  const auto index = torch::arange(2000);
  torch::manual_seed(1);
  const auto a = data.batch(index).x;
  const auto b = data.batch(index).x;
  torch::manual_seed(1);
  const auto c = data.batch(index).x;
  EXPECT_TRUE(torch::equal(a, c));
  EXPECT_FALSE(torch::equal(a, b));
  EXPECT_TRUE(((a == 0) | (a == 1)).all().item<bool>());
  const double se = std::sqrt(0.3 * 0.7 / a.numel());
  EXPECT_NEAR(a.mean().item<double>(), 0.3, 5 * se);
  EXPECT_TRUE(torch::equal(data.x, torch::full({2000, 10}, 0.3f)));
}

TEST(Dataset, SliceAndSubset) {
  const auto data = toy(5, 2);
  const auto s = data.slice(1, 3);
  EXPECT_TRUE(torch::equal(s.x, data.x.slice(0, 1, 3)));
  EXPECT_TRUE(torch::equal(s.y, torch::tensor({10, 20}, torch::kInt64)));
  EXPECT_EQ(data.slice(5, 5).size(), 0);
  EXPECT_THAT(error_of([&] { data.slice(2, 6); }), HasSubstr("range [2, 6) is not within [0, 5)"));
  EXPECT_THAT(error_of([&] { data.slice(3, 2); }), HasSubstr("range [3, 2)"));

  auto with_image = data;
  with_image.image = {1, 1, 2};
  const auto sub = with_image.subset(torch::tensor({3, 1}, torch::kInt64));
  EXPECT_EQ(sub.size(), 2);
  EXPECT_TRUE(torch::equal(sub.x, torch::stack({data.x[3], data.x[1]})));
  EXPECT_TRUE(torch::equal(sub.mask, torch::stack({data.mask[3], data.mask[1]})));
  EXPECT_TRUE(torch::equal(sub.y, torch::tensor({30, 10}, torch::kInt64)));
  EXPECT_EQ(sub.image.width, 2);
  EXPECT_EQ(sub.name, "toy");
}

TEST(Dataset, EightBitStorageGivesTheSameFloatBatchesAsScaledStorage) {
  torch::manual_seed(5);
  Dataset bytes;
  bytes.x = torch::randperm(520, torch::kInt64).remainder(256).to(torch::kUInt8).reshape({40, 13});  // every value
  bytes.y = torch::arange(40, torch::kInt64);
  Dataset floats = bytes;
  floats.x = scale_pixels(bytes.x);
  const auto all = torch::arange(40);
  EXPECT_TRUE(torch::equal(bytes.batch(all).x, floats.batch(all).x));
  elbo::WorkerThreads team(3);  // rows split in 3 uneven parts, each prefetching ahead
  EXPECT_TRUE(torch::equal(bytes.batch(all, &team).x, floats.batch(all).x));
  const auto index = torch::tensor({39, 0, 7, 7, 21}, torch::kInt64);
  const auto a = bytes.batch(index), b = floats.batch(index);
  EXPECT_EQ(a.x.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(a.x, b.x));  // bit-identical, not merely close
  EXPECT_TRUE(torch::equal(a.y, b.y));
  EXPECT_TRUE(torch::equal(bytes.slice(3, 9).x, floats.slice(3, 9).x));
  EXPECT_TRUE(torch::equal(bytes.subset(index).batch(torch::arange(5)).x, b.x));
  // A non-contiguous byte view takes the general path and still agrees.
  Dataset strided = bytes;
  strided.x = bytes.x.t().contiguous().t();
  EXPECT_TRUE(torch::equal(strided.batch(index).x, b.x));
  EXPECT_TRUE(torch::equal(float_features(bytes.x), floats.x));
  // prefetch() is only a hint: rows or ranges outside the data, other dtypes and other
  // data are passed over (under ASan a stray address would be reported here).
  const auto order = torch::tensor(std::vector<int64_t>{39, 40, -1, int64_t{1} << 40, 0});
  for (const Dataset* d : {&bytes, &floats, &strided}) {
    d->prefetch(order, -3, 9);
    d->prefetch(order.to(torch::kInt32), 0, 5);
  }
  EXPECT_TRUE(torch::equal(bytes.batch(index).x, b.x));
  EXPECT_THAT(error_of([&] { bytes.batch(torch::tensor({40}, torch::kInt64)); }),
              HasSubstr("index out of range [0, 40) (got 40)"));
  EXPECT_THAT(error_of([&] { bytes.batch(torch::tensor({3, -1}, torch::kInt64)); }), HasSubstr("(got -1)"));
}

TEST(BinarizeStatic, EightBitDataStayEightBitWithTheSameDraws) {
  torch::manual_seed(1);
  Dataset bytes;
  bytes.x = torch::randint(0, 256, {30, 20}, torch::kInt32).to(torch::kUInt8);
  Dataset floats = bytes;
  floats.x = scale_pixels(bytes.x);
  const auto a = binarize_static(bytes, 9), b = binarize_static(floats, 9);
  EXPECT_EQ(a.x.scalar_type(), torch::kUInt8);
  EXPECT_TRUE(((a.x == 0) | (a.x == 255)).all().item<bool>());
  EXPECT_TRUE(torch::equal(a.slice(0, 30).x, b.x));
}

TEST(ScalePixels, MapsBytesToUnitInterval) {
  const auto raw = torch::tensor({0, 51, 255}, torch::kUInt8);
  const auto x = scale_pixels(raw);
  EXPECT_EQ(x.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(x, torch::tensor({0.f, 0.2f, 1.f})));
  EXPECT_THAT(error_of([] { scale_pixels(torch::ones({2})); }), HasSubstr("expected uint8 intensities (got Float)"));
}

TEST(BinarizeStatic, DeterministicPerSeedAndUnbiased) {
  torch::manual_seed(0);
  Dataset data;
  data.x = torch::rand({500, 200});
  data.name = "grey";
  data.dynamic_binarize = true;
  const auto a = binarize_static(data, 7);
  torch::manual_seed(123);  // the global generator must not matter
  const auto b = binarize_static(data, 7);
  const auto c = binarize_static(data, 8);
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_FALSE(torch::equal(a.x, c.x));
  EXPECT_FALSE(a.dynamic_binarize);
  EXPECT_TRUE(((a.x == 0) | (a.x == 1)).all().item<bool>());
  const double se = std::sqrt((data.x * (1 - data.x)).sum().item<double>()) / data.x.numel();
  EXPECT_NEAR(a.x.mean().item<double>(), data.x.mean().item<double>(), 5 * se);
  // Pixels are drawn independently: brighter pixels are on more often.
  const auto bright = data.x > 0.9, dark = data.x < 0.1;
  EXPECT_GT(a.x.masked_select(bright).mean().item<double>(), 0.85);
  EXPECT_LT(a.x.masked_select(dark).mean().item<double>(), 0.15);

  data.x[0][0] = 1.5;
  EXPECT_THAT(error_of([&] { binarize_static(data, 1); }), HasSubstr("must hold intensities in [0, 1]"));
}

TEST(Standardize, ObservedEntriesGetZeroMeanUnitStd) {
  torch::manual_seed(3);
  Dataset data;
  data.x = torch::randn({400, 4}, torch::kFloat64).mul(torch::tensor({1.0, 5.0, 0.1, 2.0}, torch::kFloat64))
               .add(torch::tensor({3.0, -7.0, 100.0, 0.0}, torch::kFloat64)).to(torch::kFloat32);
  data.x.select(1, 3).fill_(2.5);  // constant column
  data.mask = (torch::rand({400, 4}) > 0.3).to(torch::kFloat32);
  data.x.mul_(data.mask);
  const auto original = data.x.clone();
  const auto s = standardize(data);

  for (int64_t j = 0; j < 4; ++j) {
    const auto observed = data.mask.select(1, j) > 0;
    const auto raw = original.select(1, j).masked_select(observed).to(torch::kFloat64);
    const double mean = raw.mean().item<double>();
    const double sd = j == 3 ? 1.0 : std::sqrt((raw - mean).square().mean().item<double>());
    EXPECT_NEAR(s.mean[j].item<double>(), mean, 1e-4 * (1 + std::abs(mean))) << j;
    EXPECT_NEAR(s.std[j].item<double>(), sd, 1e-5 * sd) << j;
    const auto z = data.x.select(1, j).masked_select(observed).to(torch::kFloat64);
    const double tol = 1e-6 * (1 + std::abs(mean) / sd);  // float32 rounding of x and the mean
    EXPECT_NEAR(z.mean().item<double>(), 0.0, tol) << j;
    if (j < 3) EXPECT_NEAR((z.square().mean()).sqrt().item<double>(), 1.0, tol) << j;
    else EXPECT_EQ(z.abs().max().item<double>(), 0.0);
    EXPECT_EQ(data.x.select(1, j).masked_select(~observed).abs().sum().item<double>(), 0.0) << j;
  }

  Dataset other;
  other.x = torch::tensor({{3.f, -7.f, 100.f, 2.5f}});
  apply_standardization(other, s);
  EXPECT_TRUE(torch::allclose(other.x, (torch::tensor({{3.f, -7.f, 100.f, 2.5f}}) - s.mean) / s.std));
  Dataset wrong;
  wrong.x = torch::zeros({2, 3});
  wrong.name = "w";
  EXPECT_THAT(error_of([&] { apply_standardization(wrong, s); }),
              HasSubstr("the standardization has 4 columns, the data set 'w' has 3"));
}

TEST(Standardize, WithoutMask) {
  Dataset data;
  data.x = torch::tensor({{1.f, 4.f}, {3.f, 4.f}});
  const auto s = standardize(data);
  EXPECT_TRUE(torch::allclose(s.mean, torch::tensor({2.f, 4.f})));
  EXPECT_TRUE(torch::allclose(s.std, torch::tensor({1.f, 1.f})));
  EXPECT_TRUE(torch::allclose(data.x, torch::tensor({{-1.f, 0.f}, {1.f, 0.f}})));
}

TEST(SplitValidation, SizesDisjointAndSeeded) {
  const auto data = toy(50, 3);
  const auto split = split_validation(data, 12, 42);
  EXPECT_EQ(split.train.size(), 38);
  EXPECT_EQ(split.validation.size(), 12);
  std::set<int64_t> seen;
  for (const auto& part : {split.train, split.validation}) {
    for (int64_t i = 0; i < part.size(); ++i) {
      const int64_t row = part.y[i].item<int64_t>() / 10;
      EXPECT_TRUE(seen.insert(row).second) << "row " << row << " appears twice";
      EXPECT_TRUE(torch::equal(part.x[i], data.x[row]));
      EXPECT_TRUE(torch::equal(part.mask[i], data.mask[row]));
    }
  }
  EXPECT_EQ(seen.size(), 50u);

  EXPECT_TRUE(torch::equal(split_validation(data, 12, 42).validation.y, split.validation.y));
  EXPECT_FALSE(torch::equal(split_validation(data, 12, 43).validation.y, split.validation.y));
  EXPECT_FALSE(torch::equal(split.validation.y, data.y.slice(0, 38, 50)));  // shuffled
  EXPECT_EQ(split_validation(data, 0, 1).train.size(), 50);

  EXPECT_THAT(error_of([&] { split_validation(data, 50, 1); }),
              HasSubstr("validation size must be in [0, 50) for 'toy' with 50 examples (got 50)"));
  EXPECT_THAT(error_of([&] { split_validation(data, -1, 1); }), HasSubstr("(got -1)"));
}

TEST(SplitValidation, EveryExampleIsHeldOutWithProbabilityValidationOverN) {
  // 10 examples, 3 held out, 4000 seeds: each count is Binomial(4000, 0.3), mean 1200, sd 29;
  // 5 sd (145) bounds all ten with false-alarm odds below 1e-5.
  const Dataset data = toy(10, 2);
  std::vector<int> held(10, 0);
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    const torch::Tensor y = split_validation(data, 3, seed).validation.y;
    for (int64_t i = 0; i < 3; ++i) ++held[y[i].item<int64_t>() / 10];
  }
  for (int row = 0; row < 10; ++row) EXPECT_NEAR(held[row], 1200, 145) << "row " << row;
}

TEST(SplitValidation, InPlaceWhenMovedEqualsTheCopyAndSparesSharedData) {
  Dataset data = toy(1000, 7);
  data.x = data.x.to(torch::kUInt8);  // wraps; any bytes do
  const Dataset reference = toy(1000, 7);
  Dataset shared = data;  // a second holder: this split must copy, not permute `data` in place
  const auto copied = split_validation(shared, 100, 11);
  EXPECT_TRUE(torch::equal(data.y, reference.y));
  EXPECT_TRUE(torch::equal(data.x, reference.x.to(torch::kUInt8)));

  Dataset sole = toy(1000, 7);
  sole.x = sole.x.to(torch::kUInt8);
  const void* memory = sole.x.data_ptr();
  const auto moved = split_validation(std::move(sole), 100, 11);
  EXPECT_EQ(moved.train.x.data_ptr(), memory);  // permuted where it lay: no second copy
  for (const auto* part : {&moved.train, &moved.validation}) {
    const auto& other = part == &moved.train ? copied.train : copied.validation;
    EXPECT_TRUE(torch::equal(part->x, other.x));
    EXPECT_TRUE(torch::equal(part->mask, other.mask));
    EXPECT_TRUE(torch::equal(part->y, other.y));
  }
}

}  // namespace
