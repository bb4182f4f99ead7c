#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/refine.h"

#include <string>

namespace elbo::diag {

/// Settings of the inference-gap decomposition.
struct GapOptions {
  EvidenceOptions evidence;   ///< the IWAE estimate of log p(x) (large K)
  RefineOptions refine;       ///< the per-example optimization that gives q*
  int64_t elbo_particles = 1000;  ///< particles of each ELBO estimate (amortized q and q*)
};

/// Pinsker's inequality: TV(q, p) <= sqrt(KL(q || p) / 2), and TV <= 1 always; elementwise, KL < 0 read as 0.
Tensor pinsker_bound(const Tensor& kl);

/// The choice between two per-example estimates a and b of log p(x) (IWAE-K with
/// different proposals) with Monte Carlo standard errors: true where b is used,
/// i.e. where b - a > 2 sqrt(a_se^2 + b_se^2) (b significantly tighter), or where
/// |b - a| is within that margin and b_se < a_se (equally tight, b more precise).
/// Choosing on the value only beyond 2 SE keeps the upward selection bias small.
Tensor prefer_second_estimate(const Tensor& a, const Tensor& a_se, const Tensor& b, const Tensor& b_se);

/// One gap: its data-set mean with the standard error over examples (how well
/// the mean estimates the population mean; includes the Monte Carlo noise) and
/// the Monte Carlo standard error alone (how precisely the gap of these
/// examples is measured).
struct Gap {
  double mean = 0, se = 0, mc_se = 0;
};

/// The inference gaps of Cremer, Li & Duvenaud (2018, "Inference
/// suboptimality in variational autoencoders"):
///   log p(x) - ELBO[q]  =  (log p(x) - ELBO[q*])  +  (ELBO[q*] - ELBO[q])
///      total gap             approximation gap        amortization gap
/// where q is the encoder's q(z|x) and q* the best member of the same
/// (diagonal Gaussian) family for each x, found by refine(). Each ELBO gap of a
/// q equals KL(q || p(z|x)). log p(x) is, per example, one of two IWAE-K
/// estimates, with the encoder's q or with q* as the proposal (an undertrained
/// encoder is a poor proposal; a narrow, mode-seeking q* can be one too): the
/// larger where it is larger by more than 2 combined standard errors, else the
/// one of smaller Monte Carlo error. Both are stochastic lower bounds, so the
/// approximation and total gaps are lower estimates.
struct Gaps {
  int64_t examples = 0, k = 0, elbo_particles = 0;
  // Per example [N]: the estimates and their Monte Carlo standard errors.
  Tensor log_px, log_px_mc_se;
  Tensor elbo_amortized, elbo_amortized_mc_se;
  Tensor elbo_refined, elbo_refined_mc_se;
  Refined refined;  ///< q* (loc, log_scale [N, D]) and the optimization traces

  double log_px_mean = 0, elbo_amortized_mean = 0, elbo_refined_mean = 0;
  Gap approximation;  ///< log p(x) - ELBO[q*]
  Gap amortization;   ///< ELBO[q*] - ELBO[q]
  Gap total;          ///< log p(x) - ELBO[q]
  /// Mean over x of the Pinsker bound min(1, sqrt(gap_x / 2)) on TV(q, p(z|x)) for q and for q*.
  double pinsker_amortized = 0, pinsker_refined = 0;
  double seconds = 0;

  /// Per-example gaps [N].
  Tensor approximation_gaps() const { return log_px - elbo_refined; }
  Tensor amortization_gaps() const { return elbo_refined - elbo_amortized; }
  Tensor total_gaps() const { return log_px - elbo_amortized; }
};

/// Per-example ELBO of an external q [N, D] (any reparameterizable q over the model's code that exposes its parameters),
/// averaged over K particles, with its Monte Carlo standard error sd(log w)/sqrt(K),
/// and from the same particles the IWAE-K estimate of log p(x) with q as the
/// proposal (with its delta-method standard error). Particles are streamed in
/// chunks of at most max_rows particles x examples.
struct ElboEstimate {
  Tensor elbo, mc_se;          ///< [N]
  Tensor log_px, log_px_mc_se;  ///< [N]
};
ElboEstimate estimate_elbo(model::Model& model, const data::Dataset& data, const dist::DistributionPtr& q, int64_t particles,
                           int64_t batch_size = 100, uint64_t seed = 1, int64_t max_rows = 32768);

/// log p(x) (IWAE), ELBO of the encoder's q and of the refined q*, the three
/// gaps with standard errors and the Pinsker bounds. Needs Model::forward_with.
/// `evidence`, when given, is an estimate_evidence() of the same data, reused instead of a new IWAE pass.
Gaps estimate_gaps(model::Model& model, const data::Dataset& data, const GapOptions& options = {},
                   const Evidence* evidence = nullptr);

/// The data-set summary as a JSON object (no per-example arrays).
Json to_json(const Gaps& gaps);

}  // namespace elbo::diag
