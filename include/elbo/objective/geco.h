#pragma once
#include "elbo/objective/elbo.h"

namespace elbo::objective {

/// Options of GECO.
struct GecoOptions {
  TORCH_ARG(int64_t, particles) = 1;
  TORCH_ARG(bool, analytic_kl) = true;
  TORCH_ARG(double, target) = 0.0;    ///< bound on the distortion D, nats per example
  TORCH_ARG(double, alpha) = 0.99;    ///< moving-average factor of the constraint
  TORCH_ARG(double, rate) = 1e-3;     ///< nu: multiplier step per nat of constraint
  TORCH_ARG(double, initial) = 1.0;   ///< lambda at step 0
  TORCH_ARG(double, min) = 1e-3;      ///< clamp of lambda
  TORCH_ARG(double, max) = 1e3;
};

/// GECO (Rezende & Viola 2018, "Taming VAEs"): minimize the rate KL(q(z|x) || p(z))
/// subject to the distortion constraint C = D - target <= 0, D = -E_q[log p(x|z)],
/// through the Lagrangian KL + lambda C. After every step the multiplier follows
/// a moving average of the constraint, multiplicatively and clamped:
///   C_ma <- alpha C_ma + (1 - alpha) C_batch      (C_ma = C_batch at the first step)
///   lambda <- clamp(lambda exp(nu C_ma), min, max)
/// lambda grows while the constraint is violated and shrinks once it holds.
/// The loss is the Lagrangian divided by lambda, D + KL / lambda: a beta-ELBO with
/// beta = 1 / lambda, the "shadow price" of distortion in nats of rate (at a
/// stationary point it is the slope -dD/dR of the rate-distortion curve).
class Geco : public Objective {
 public:
  explicit Geco(const GecoOptions& options);
  int64_t particles() const override { return options_.particles(); }
  Value operator()(const model::Trace& trace, int64_t step) const override;
  void after_step(const Value& value, int64_t step) override;
  State state() const override;
  void load_state(const State& state) override;

  double lambda() const { return lambda_; }
  double constraint_average() const { return constraint_ma_; }

 private:
  GecoOptions options_;
  double lambda_;
  double constraint_ma_ = 0;
  int64_t updates_ = 0;
};

}  // namespace elbo::objective
