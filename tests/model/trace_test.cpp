// The trace's reductions against hand-computed values: an enumerated label (one row
// unlabelled, one labelled), and a global site's KL shared out over the data.
#include "elbo/model/trace.h"

#include <gtest/gtest.h>

#include <cmath>

namespace elbo::model {
namespace {

using torch::Tensor;

Tensor d(std::vector<double> v, std::vector<int64_t> shape) { return torch::tensor(v, torch::kDouble).view(shape); }

/// C = 2 classes, K = 1, B = 2: row 0 unlabelled with q(y|x) = (0.3, 0.7), row 1 labelled y = 1.
struct Enumerated {
  Tensor a = d({-10, -11, -12, -13}, {2, 1, 2});        // log p(x | z_c, c) [C, K, B]
  Tensor lpz = d({-1.5, -1.6, -1.7, -1.8}, {2, 1, 2});  // log p(z_c)
  Tensor lqz = d({-0.5, -0.6, -0.7, -0.9}, {2, 1, 2});  // log q(z_c | x, c)
  Tensor klz = d({0.25, 0.5, 0.75, 1.25}, {2, 1, 2, 1});  // analytic KL of z per class
  Tensor q = d({0.3, 0.4, 0.7, 0.6}, {2, 2});            // q(c | x) [C, B]
  Trace trace() const {
    Trace t;
    Site y;
    y.name = "y";
    y.kind = SiteKind::enumerated;
    y.value = torch::tensor({0, 1}, torch::kLong);
    y.mask = d({0, 1}, {2});
    y.log_p = torch::full({2, 1, 2}, std::log(0.5), torch::kDouble);
    y.log_q = q.log().unsqueeze(1);
    y.weight = d({0.3, 0.0, 0.7, 1.0}, {2, 2});  // q where unobserved, one-hot where observed
    Site z;
    z.name = "z";
    z.kind = SiteKind::latent;
    z.value = torch::zeros({2, 1, 2, 1}, torch::kDouble);
    z.log_p = lpz;
    z.log_q = lqz;
    z.kl = klz;
    Site x;
    x.name = "x";
    x.kind = SiteKind::observed;
    x.log_p = a;
    t.sites = {y, z, x};
    return t;
  }
  double at(const Tensor& t, int64_t c, int64_t b) const { return t[c][0][b].item<double>(); }
};

TEST(Trace, EnumeratedLabelIsAveragedUnderQWhereUnobservedAndFixedWhereObserved) {
  const Enumerated e;
  const Trace t = e.trace();
  const Tensor rec = t.log_likelihood();
  ASSERT_EQ(rec.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(rec[0][0].item<double>(), 0.3 * -10 + 0.7 * -12, 1e-12);
  EXPECT_NEAR(rec[0][1].item<double>(), -13, 1e-12);

  // Row 0: sum_c q_c KL_c + KL(q(y) || p(y)); row 1: KL_1 - log p(y = 1).
  const double kl_y = 0.3 * std::log(0.3 / 0.5) + 0.7 * std::log(0.7 / 0.5);
  const Tensor kl = t.kl(true);
  EXPECT_NEAR(kl[0][0].item<double>(), 0.3 * 0.25 + 0.7 * 0.75 + kl_y, 1e-12);
  EXPECT_NEAR(kl[0][1].item<double>(), 1.25 - std::log(0.5), 1e-12);
  const Tensor mc = t.kl(false);
  EXPECT_NEAR(mc[0][0].item<double>(), 0.3 * (-0.5 + 1.5) + 0.7 * (-0.7 + 1.7) + kl_y, 1e-12);
  const auto by_site = t.kl_by_site(true);
  ASSERT_EQ(by_site.size(), 2u);
  EXPECT_EQ(by_site[0].first, "y");
  EXPECT_NEAR(by_site[0].second[0][0].item<double>(), kl_y, 1e-12);
  EXPECT_NEAR(by_site[1].second[0][1].item<double>(), 1.25, 1e-12);

  // log p(x, z) - log q with the label summed out exactly (row 0) or fixed (row 1).
  const Tensor w = t.log_weights();
  double sum = 0;
  for (int c = 0; c < 2; ++c) sum += 0.5 * std::exp(e.at(e.a, c, 0) + e.at(e.lpz, c, 0) - e.at(e.lqz, c, 0));
  EXPECT_NEAR(w[0][0].item<double>(), std::log(sum), 1e-12);
  EXPECT_NEAR(w[0][1].item<double>(), std::log(0.5) - 13 - 1.8 + 0.9, 1e-12);

  const Tensor label = t.observed_label_log_q();
  EXPECT_NEAR(label[0].item<double>(), 0.0, 1e-15);
  EXPECT_NEAR(label[1].item<double>(), std::log(0.6), 1e-12);
  EXPECT_EQ(t.kl_per_dim().sizes(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_NEAR(t.kl_per_dim()[0][0][0].item<double>(), 0.3 * 0.25 + 0.7 * 0.75, 1e-12);
}

TEST(Trace, GlobalSiteCarriesItsShareOfTheKlPerExample) {
  Trace t;
  Site w;
  w.name = "w";
  w.kind = SiteKind::global;
  w.log_p = d({-3.0, -4.0}, {2, 1});  // K = 2 draws
  w.log_q = d({-1.0, -1.5}, {2, 1});
  w.kl = torch::tensor(2.5, torch::kDouble);
  w.share = 1.0 / 50;
  Site y;
  y.name = "target";
  y.kind = SiteKind::observed;
  y.log_p = d({-1, -2, -3, -4, -5, -6}, {2, 3});  // [K, B]
  t.sites = {w, y};
  EXPECT_EQ(t.batch_size(), 3);
  EXPECT_EQ(t.particles(), 2);
  const Tensor kl = t.kl(true);
  ASSERT_EQ(kl.sizes(), (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(torch::allclose(kl, torch::full({1, 3}, 2.5 / 50, torch::kDouble)));
  const Tensor mc = t.kl(false);
  ASSERT_EQ(mc.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_NEAR(mc[1][2].item<double>(), (-1.5 + 4.0) / 50, 1e-12);
  const Tensor lw = t.log_weights();
  EXPECT_NEAR(lw[1][0].item<double>(), -4 + (-4.0 + 1.5) / 50, 1e-12);
  EXPECT_FALSE(t.kl_per_dim().defined());  // no per-example latent
  EXPECT_TRUE(t.latents().empty());
}

}  // namespace
}  // namespace elbo::model
