// Semi-supervised data: N labels kept, balanced over the classes, seeded, repeated so that
// batches see them; errors name the problem.
#include "elbo/data/labelled.h"

#include "support/throws.h"

#include <gtest/gtest.h>

namespace elbo::data {
namespace {

Dataset labelled_data(int64_t n, int64_t classes) {
  Dataset d;
  d.x = torch::arange(n, torch::kFloat).unsqueeze(1);
  d.y = torch::arange(n, torch::kLong).remainder(classes);
  d.name = "toy";
  return d;
}

TEST(KeepLabels, KeepsABalancedSeededSubsetAndRepeatsIt) {
  const Dataset d = labelled_data(1000, 4);
  const Dataset s = keep_labels(d, 10, 3, 7);
  ASSERT_EQ(s.size(), 1000 + 2 * 10);
  EXPECT_EQ(s.y_mask.sum().item<int64_t>(), 3 * 10);
  // The labelled rows of the original set: 3, 3, 2, 2 per class (the remainder to the first classes).
  const torch::Tensor first = s.y.slice(0, 0, 1000).masked_select(s.y_mask.slice(0, 0, 1000) > 0);
  EXPECT_TRUE(torch::equal(torch::bincount(first, {}, 4), torch::tensor({3, 3, 2, 2}, torch::kLong)));
  // The copies are those rows, labelled.
  const torch::Tensor copies = s.x.slice(0, 1000).squeeze(1);
  EXPECT_TRUE(torch::equal(copies.slice(0, 0, 10), copies.slice(0, 10, 20)));
  EXPECT_TRUE(torch::equal(std::get<0>(s.x.slice(0, 0, 1000).masked_select(s.y_mask.slice(0, 0, 1000).unsqueeze(1) > 0).sort()),
                           std::get<0>(copies.slice(0, 0, 10).sort())));
  EXPECT_TRUE(torch::equal(keep_labels(d, 10, 3, 7).y_mask, s.y_mask));  // seeded
  EXPECT_FALSE(torch::equal(keep_labels(d, 10, 3, 8).x, s.x));
}

TEST(KeepLabels, AutoRepeatMakesAboutATenthLabelledAndLabelledOnlyKeepsTheCopies) {
  const Dataset d = labelled_data(10000, 10);
  const Dataset s = keep_labels(d, 100, 0, 1);
  EXPECT_EQ(s.size(), 10000 + 10 * 100);  // round(9900 / 900) = 11 appearances
  const Dataset only = keep_labels(d, 100, 0, 1, /*labelled_only=*/true);
  EXPECT_EQ(only.size(), 11 * 100);
  EXPECT_EQ(only.y_mask.sum().item<int64_t>(), 1100);
}

TEST(KeepLabels, ClearErrors) {
  Dataset unlabelled = labelled_data(10, 2);
  unlabelled.y = torch::Tensor();
  test::expect_invalid_argument([&] { keep_labels(unlabelled, 4, 0, 1); }, {"'toy' have no labels"});
  test::expect_invalid_argument([&] { keep_labels(labelled_data(10, 2), 11, 0, 1); }, {"data.labelled must be in 1..10"});
  Dataset skewed = labelled_data(10, 2);
  skewed.y = torch::tensor({0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, torch::kLong);
  test::expect_invalid_argument([&] { keep_labels(skewed, 4, 0, 1); }, {"class 1 has 1 training examples, fewer than its share of 2"});
  EXPECT_EQ(hide_labels(labelled_data(6, 2)).y_mask.sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace elbo::data
