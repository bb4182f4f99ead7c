#include "elbo/data/dsprites.h"

#include "elbo/core/config.h"
#include "elbo/data/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace {

using namespace elbo::data;
using ::testing::HasSubstr;

/// One image per row of {shape, scale, orientation, pos_x, pos_y}, as [N, 32, 32].
torch::Tensor render(const std::vector<std::vector<int64_t>>& rows) {
  torch::Tensor f = torch::empty({static_cast<int64_t>(rows.size()), 5}, torch::kLong);
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t k = 0; k < 5; ++k) f[i][k] = rows[i][k];
  return render_dsprites(f).view({-1, kDspritesSide, kDspritesSide}).to(torch::kDouble);
}

double centre_x(const torch::Tensor& image) {  // [32, 32], in pixel units (pixel centres at c + 0.5)
  const torch::Tensor columns = torch::arange(kDspritesSide, torch::kDouble) + 0.5;
  return (image.sum(0) * columns).sum().item<double>() / image.sum().item<double>();
}

TEST(Dsprites, DeterministicInTheSeedWithFactorsInRange) {
  const Dataset a = make_dsprites(0, 300, 7), b = make_dsprites(0, 300, 7), c = make_dsprites(0, 300, 8);
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_TRUE(torch::equal(a.factors, b.factors));
  EXPECT_FALSE(torch::equal(a.factors, c.factors));
  ASSERT_EQ(a.x.sizes(), (std::vector<int64_t>{300, 32 * 32}));
  ASSERT_EQ(a.factors.sizes(), (std::vector<int64_t>{300, 5}));
  EXPECT_EQ(a.image.features(), 32 * 32);
  EXPECT_EQ(a.factor_names, kDspritesFactorNames);
  EXPECT_EQ(a.factor_sizes, kDspritesFactorSizes);
  for (int64_t k = 0; k < 5; ++k) {
    EXPECT_EQ(a.factors.select(1, k).min().item<int64_t>(), 0) << kDspritesFactorNames[k];
    EXPECT_EQ(a.factors.select(1, k).max().item<int64_t>(), kDspritesFactorSizes[k] - 1) << kDspritesFactorNames[k];
  }
  EXPECT_GE(a.x.min().item<double>(), 0.0);
  EXPECT_LE(a.x.max().item<double>(), 1.0);
  // Every image shows a shape (the smallest, an ellipse of half-axes 3 and 1.5 px, covers pi * 4.5 = 14 px)
  // that stays inside the frame (the border rows and columns are black).
  EXPECT_GT(a.x.sum(1).min().item<double>(), 10.0);
  const torch::Tensor images = a.x.view({-1, 32, 32});
  EXPECT_EQ(images.select(1, 0).sum().item<double>() + images.select(1, 31).sum().item<double>() +
                images.select(2, 0).sum().item<double>() + images.select(2, 31).sum().item<double>(),
            0.0);
}

TEST(Dsprites, RangesOfTheSeededOrderAreDistinctCells) {
  const Dataset train = make_dsprites(0, 2000, 3), test = make_dsprites(kDspritesCells - 2000, kDspritesCells, 3);
  auto cells = [](const Dataset& d) {
    const torch::Tensor id = (d.factors * torch::tensor({16 * 16 * 16 * 6, 16 * 16 * 16, 16 * 16, 16, 1})).sum(1);
    std::set<int64_t> s;
    for (int64_t i = 0; i < id.numel(); ++i) s.insert(id[i].item<int64_t>());
    return s;
  };
  const std::set<int64_t> a = cells(train), b = cells(test);
  EXPECT_EQ(a.size(), 2000u);  // no repeated combination
  for (int64_t id : b) EXPECT_EQ(a.count(id), 0u) << "cell " << id << " is in both ranges";
}

TEST(Dsprites, PositionMovesTheCentreOfMass) {
  for (int64_t shape = 0; shape < 3; ++shape) {
    std::vector<std::vector<int64_t>> rows;
    for (int64_t x = 0; x < 16; ++x) rows.push_back({shape, 3, 5, x, 9});
    const torch::Tensor images = render(rows);
    for (int64_t x = 1; x < 16; ++x)
      EXPECT_GT(centre_x(images[x]), centre_x(images[x - 1]) + 0.5) << "shape " << shape << ", pos_x " << x;
    // pos_y moves the image down: the transposed image of a mirrored (x <-> y) placement.
    const torch::Tensor low = render({{shape, 3, 0, 4, 2}})[0], high = render({{shape, 3, 0, 4, 12}})[0];
    EXPECT_GT(centre_x(high.t()), centre_x(low.t()) + 10 * 16.0 / 15 - 1);
  }
  // Point-symmetric shapes: the centre of mass is the nominal centre 8 + 16 i / 15.
  for (int64_t shape : {0, 1})
    for (int64_t x : {0, 6, 15})
      EXPECT_NEAR(centre_x(render({{shape, 2, 3, x, 7}})[0]), 8 + 16.0 * x / 15, 0.05) << "shape " << shape;
}

TEST(Dsprites, AreasMatchTheClosedForms) {
  for (int64_t scale = 0; scale < 6; ++scale) {
    const double r = (0.5 + 0.1 * scale) * 6.0;
    const torch::Tensor images = render({{0, scale, 0, 7, 7}, {1, scale, 0, 7, 7}, {2, scale, 0, 7, 7}});
    // Axis-aligned square of side 1.6 r: the coverage ramp clamp(0.5 - d, 0, 1) is exact along straight
    // edges; in each of the 4 corner pixels min(a, b) replaces the covered area a b (off by at most 1/4).
    EXPECT_NEAR(images[0].sum().item<double>(), std::pow(1.6 * r, 2), 1.0) << "scale " << scale;
    // Ellipse with half-axes r and r / 2.
    EXPECT_NEAR(images[1].sum().item<double>(), M_PI * r * r / 2, 0.03 * M_PI * r * r / 2) << "scale " << scale;
    if (scale > 0) {
      const torch::Tensor smaller = render({{2, scale - 1, 0, 7, 7}});
      EXPECT_GT(images[2].sum().item<double>(), smaller.sum().item<double>()) << "heart, scale " << scale;
    }
  }
}

TEST(Dsprites, ShapesDifferAndRotationRespectsTheirSymmetry) {
  const torch::Tensor shapes = render({{0, 5, 1, 8, 8}, {1, 5, 1, 8, 8}, {2, 5, 1, 8, 8}});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = i + 1; j < 3; ++j) EXPECT_GT((shapes[i] - shapes[j]).abs().sum().item<double>(), 5.0);
  // Rotation about a pixel corner (pos 0 -> 8 px): a quarter turn (4 steps) maps the square
  // onto itself, a half turn (8 steps) the ellipse; the heart needs a full turn.
  std::vector<std::vector<int64_t>> rows;
  for (int64_t shape = 0; shape < 3; ++shape)
    for (int64_t j = 0; j < 16; ++j) rows.push_back({shape, 5, j, 0, 0});
  const torch::Tensor images = render(rows).view({3, 16, -1});
  auto differ = [&](int64_t shape, int64_t a, int64_t b) {
    return (images[shape][a] - images[shape][b]).abs().max().item<double>();
  };
  EXPECT_LT(differ(0, 1, 5), 1e-5);
  EXPECT_GT(differ(0, 0, 1), 0.1);
  EXPECT_LT(differ(1, 3, 11), 1e-5);
  EXPECT_GT(differ(1, 3, 7), 0.1);
  for (int64_t a = 0; a < 16; ++a)
    for (int64_t b = a + 1; b < 16; ++b) EXPECT_GT(differ(2, a, b), 0.1) << "heart orientations " << a << ", " << b;
}

TEST(Dsprites, RefusesFactorsOutOfRange) {
  try {
    render({{0, 6, 0, 0, 0}});
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("factor 'scale' must be in [0, 6) (got 6)"));
  }
  EXPECT_THROW(make_dsprites(0, kDspritesCells + 1, 0), std::invalid_argument);
}

elbo::Config dsprites_config() {
  elbo::Config c;
  for (const char* s : {"data.format=dsprites", "data.dsprites_size=600", "data.dsprites_test=200",
                        "data.validation=100", "data.dsprites_seed=5"})
    c.set(s);
  return c;
}

TEST(Dsprites, LoadedSplitsKeepImagesAndFactorsAligned) {
  elbo::Config c = dsprites_config();
  const Splits s = load_data(c);
  EXPECT_EQ(s.train.size(), 500);
  EXPECT_EQ(s.validation.size(), 100);
  EXPECT_EQ(s.test.size(), 200);
  for (const Dataset* d : {&s.train, &s.validation, &s.test}) {
    ASSERT_TRUE(d->factors.defined());
    EXPECT_EQ(d->factor_names, kDspritesFactorNames);
    EXPECT_TRUE(torch::equal(render_dsprites(d->factors), d->x));  // row i of x is the image of row i of factors
  }
  // The test set depends on data.dsprites_seed only, not on train.seed, and load_test_data builds the same one.
  c.set("train.seed=99");
  EXPECT_TRUE(torch::equal(load_test_data(c).factors, s.test.factors));
  c.set("data.dsprites_size=1000");
  EXPECT_TRUE(torch::equal(load_test_data(c).factors, s.test.factors));
  c.set("data.dsprites_seed=6");
  EXPECT_FALSE(torch::equal(load_test_data(c).factors, s.test.factors));
}

TEST(Dsprites, LoadRefusesMoreExamplesThanCells) {
  elbo::Config c = dsprites_config();
  c.set("data.dsprites_size=70000");
  c.set("data.dsprites_test=5000");
  try {
    load_data(c);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("data.dsprites_size (70000) + data.dsprites_test (5000) exceeds the 73728"));
  }
}

}  // namespace
