#include "elbo/objective/geco.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace elbo {
namespace {

/// A trace with the given per-example log p(x|z) (K = 1, the observed site "x") and KL per
/// example 2 (analytic, D = 1, the latent site "z").
model::Trace trace_with(std::vector<double> log_px_z) {
  const auto b = static_cast<int64_t>(log_px_z.size());
  model::Site z;
  z.name = "z";
  z.kind = model::SiteKind::latent;
  z.value = torch::zeros({1, b, 1}, torch::kDouble);  // [K, B, D] (not read by the objective)
  z.log_q = torch::zeros({1, b}, torch::kDouble);
  z.log_p = torch::zeros({1, b}, torch::kDouble);
  z.kl = torch::full({1, b, 1}, 2.0, torch::kDouble);
  z.q_mean = torch::zeros({b, 1}, torch::kDouble);
  model::Site x;
  x.name = "x";
  x.kind = model::SiteKind::observed;
  x.log_p = torch::tensor(log_px_z, torch::kDouble).unsqueeze(0);
  model::Trace t;
  t.sites = {z, x};
  return t;
}

TEST(Geco, LossIsTheLagrangianOverLambda) {
  objective::Geco geco(objective::GecoOptions().initial(4.0).min(0.5).max(10));
  objective::Value v = geco(trace_with({-100, -120}), 0);
  EXPECT_DOUBLE_EQ(v.beta, 0.25);
  EXPECT_NEAR(v.loss.item<double>(), 110 + 2.0 / 4.0, 1e-12);  // D + KL / lambda
  EXPECT_NEAR(v.bound[0].item<double>(), -102, 1e-12) << "the reported bound is the ELBO";
}

TEST(Geco, MultiplierFollowsTheMovingAverageOfTheConstraint) {
  const double target = 100, alpha = 0.9, nu = 0.01;
  objective::Geco geco(objective::GecoOptions().target(target).alpha(alpha).rate(nu).initial(1.0).min(0.01).max(50));
  double lambda = 1.0, ma = 0;
  const std::vector<double> distortions = {130, 120, 90, 95, 80, 150};
  for (size_t s = 0; s < distortions.size(); ++s) {
    objective::Value v = geco(trace_with({-distortions[s] + 3, -distortions[s] - 3}), static_cast<int64_t>(s));
    geco.after_step(v, static_cast<int64_t>(s));
    const double c = distortions[s] - target;
    ma = s == 0 ? c : alpha * ma + (1 - alpha) * c;
    lambda = std::clamp(lambda * std::exp(nu * ma), 0.01, 50.0);
    EXPECT_NEAR(geco.constraint_average(), ma, 1e-9) << "step " << s;
    EXPECT_NEAR(geco.lambda(), lambda, 1e-9) << "step " << s;
  }
  // The state round-trips through load_state (what a resumed run restores).
  objective::Geco restored(objective::GecoOptions().target(target).alpha(alpha).rate(nu).min(0.01).max(50));
  restored.load_state(geco.state());
  EXPECT_DOUBLE_EQ(restored.lambda(), geco.lambda());
  EXPECT_DOUBLE_EQ(restored.constraint_average(), geco.constraint_average());
}

TEST(Geco, MultiplierIsClamped) {
  objective::Geco geco(objective::GecoOptions().target(0).rate(1.0).initial(1.0).min(0.5).max(2.0));
  for (int s = 0; s < 3; ++s) geco.after_step(geco(trace_with({-50}), s), s);  // constraint 50 > 0: grows
  EXPECT_DOUBLE_EQ(geco.lambda(), 2.0);
  objective::Geco low(objective::GecoOptions().target(1000).rate(1.0).initial(1.0).min(0.5).max(2.0));
  low.after_step(low(trace_with({-50}), 0), 0);  // constraint -950: shrinks
  EXPECT_DOUBLE_EQ(low.lambda(), 0.5);
}

TEST(Geco, RefusesInconsistentOptions) {
  EXPECT_THROW(objective::Geco(objective::GecoOptions().initial(0.1).min(0.5)), std::invalid_argument);
  EXPECT_THROW(objective::Geco(objective::GecoOptions().alpha(1.0)), std::invalid_argument);
}

}  // namespace
}  // namespace elbo
