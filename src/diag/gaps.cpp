#include "elbo/diag/gaps.h"

#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/core/rng.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace elbo::diag {
namespace {

/// Counter offset of the ELBO estimates' random stream.
constexpr uint64_t kElboStream = 0x656c626f00000000ULL;

Gap make_gap(const Tensor& per_example, const Tensor& mc_var) {
  Gap g;
  const int64_t n = per_example.numel();
  const double nd = static_cast<double>(n);
  g.mean = per_example.mean().item<double>();
  g.mc_se = std::sqrt(mc_var.sum().item<double>()) / nd;
  const double spread = n > 1 ? per_example.std().item<double>() / std::sqrt(nd) : 0.0;
  // The spread over examples already contains each example's Monte Carlo noise; with a
  // single example only the Monte Carlo error is left.
  g.se = n > 1 ? spread : g.mc_se;
  return g;
}

}  // namespace

Tensor pinsker_bound(const Tensor& kl) { return torch::clamp_max(torch::sqrt(torch::clamp_min(kl, 0) / 2), 1.0); }

ElboEstimate estimate_elbo(model::Model& model, const data::Dataset& data, const dist::DistributionPtr& q, int64_t particles,
                           int64_t batch_size, uint64_t seed, int64_t max_rows) {
  ELBO_CHECK(max_rows >= 1, "diag::estimate_elbo: max_rows must be >= 1 (got ", max_rows, ")");
  ELBO_CHECK(particles >= 2, "diag::estimate_elbo: particles must be >= 2 for a standard error (got ", particles, ")");
  ELBO_CHECK(batch_size >= 1, "diag::estimate_elbo: batch_size must be >= 1 (got ", batch_size, ")");
  const auto q_shape = q->sample_shape();
  ELBO_CHECK(q_shape.size() == 2 && q_shape[0] == data.size(), "diag::estimate_elbo: q must be [N = ", data.size(),
             ", D], got ", c10::IntArrayRef(q_shape));
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  std::vector<Tensor> elbos, ses, log_pxs, log_px_ses;
  const double k = static_cast<double>(particles);
  uint64_t counter = 0;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const int64_t end = std::min(data.size(), begin + batch_size);
    data::Batch batch = data.slice(begin, end);
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    const dist::DistributionPtr qb = dist::slice_rows(*q, begin, end, torch::TensorOptions().device(device));
    // Streaming sums over particle chunks: sum w, sum w^2, logsumexp w, logsumexp 2w.
    const int64_t chunk = std::max<int64_t>(1, std::min(particles, max_rows / (end - begin)));
    Tensor sum, sum2, lse, lse2;
    for (int64_t done = 0; done < particles; done += chunk) {
      seed_stream(seed, RngStream::evaluation, kElboStream + counter++);
      Tensor w = model.forward_with(batch, qb, std::min(chunk, particles - done)).log_weights().to(torch::kDouble);
      Tensor s1 = w.sum(0), s2 = w.pow(2).sum(0), l1 = torch::logsumexp(w, 0), l2 = torch::logsumexp(2 * w, 0);
      sum = sum.defined() ? sum + s1 : s1;
      sum2 = sum2.defined() ? sum2 + s2 : s2;
      lse = lse.defined() ? torch::logaddexp(lse, l1) : l1;
      lse2 = lse2.defined() ? torch::logaddexp(lse2, l2) : l2;
    }
    const Tensor mean = sum / k;
    const Tensor variance = torch::clamp_min((sum2 - k * mean.pow(2)) / (k - 1), 0);
    elbos.push_back(mean.cpu());
    ses.push_back((variance / k).sqrt().cpu());
    const Tensor log_px = lse - std::log(k);
    log_pxs.push_back(log_px.cpu());
    // Delta method, as in estimate_evidence: Var(p̂)/p̂^2 ≈ (mean w^2 / mean(w)^2 - 1) / K.
    log_px_ses.push_back((torch::clamp_min(torch::exp(lse2 - std::log(k) - 2 * log_px) - 1, 0) / k).sqrt().cpu());
  }
  model.train(was_training);
  return {torch::cat(elbos), torch::cat(ses), torch::cat(log_pxs), torch::cat(log_px_ses)};
}

Tensor prefer_second_estimate(const Tensor& a, const Tensor& a_se, const Tensor& b, const Tensor& b_se) {
  const Tensor margin = 2 * torch::sqrt(a_se.pow(2) + b_se.pow(2));
  const Tensor diff = b - a;
  return (diff > margin) | ((diff.abs() <= margin) & (b_se < a_se));
}

Gaps estimate_gaps(model::Model& model, const data::Dataset& data, const GapOptions& o, const Evidence* evidence) {
  ELBO_CHECK(o.elbo_particles >= 2, "diag::estimate_gaps: elbo_particles must be >= 2 (got ", o.elbo_particles, ")");
  const auto start = std::chrono::steady_clock::now();
  Gaps g;
  ELBO_CHECK(!evidence || evidence->log_px.numel() == data.size(), "diag::estimate_gaps: the given evidence has ",
             evidence ? evidence->log_px.numel() : 0, " examples, the data set ", data.size());
  const Evidence e = evidence ? *evidence : estimate_evidence(model, data, o.evidence);
  g.examples = data.size();
  g.k = e.k;
  g.elbo_particles = o.elbo_particles;

  // The encoder's q for every example, then q* from it (or from the prior).
  const dist::DistributionPtr amortized = amortized_posterior(model, data, o.evidence.batch_size);
  g.refined = refine(model, data, o.refine);

  const uint64_t seed = o.evidence.seed;
  ElboEstimate a =
      estimate_elbo(model, data, amortized, o.elbo_particles, o.evidence.batch_size, seed, o.evidence.max_rows);
  ElboEstimate r =
      estimate_elbo(model, data, g.refined.q(), o.elbo_particles, o.evidence.batch_size, seed + 1, o.evidence.max_rows);
  g.elbo_amortized = a.elbo;
  g.elbo_amortized_mc_se = a.mc_se;
  g.elbo_refined = r.elbo;
  g.elbo_refined_mc_se = r.mc_se;
  // log p(x): per example the IWAE estimate with q or with q* as proposal.
  const Tensor e_px = e.log_px.to(torch::kDouble), e_se = e.log_px_mc_se.to(torch::kDouble);
  const Tensor use_refined = prefer_second_estimate(e_px, e_se, r.log_px, r.log_px_mc_se);
  g.log_px = torch::where(use_refined, r.log_px, e.log_px.to(torch::kDouble));
  g.log_px_mc_se = torch::where(use_refined, r.log_px_mc_se, e.log_px_mc_se.to(torch::kDouble));

  g.log_px_mean = g.log_px.mean().item<double>();
  g.elbo_amortized_mean = g.elbo_amortized.mean().item<double>();
  g.elbo_refined_mean = g.elbo_refined.mean().item<double>();
  const Tensor v_px = g.log_px_mc_se.to(torch::kDouble).pow(2), v_a = a.mc_se.pow(2), v_r = r.mc_se.pow(2);
  // Monte Carlo variances add (exact for independent draws; conservative where log p(x) and
  // ELBO[q*] share q*'s particles, whose errors are positively correlated).
  g.approximation = make_gap(g.approximation_gaps(), v_px + v_r);
  g.amortization = make_gap(g.amortization_gaps(), v_r + v_a);
  g.total = make_gap(g.total_gaps(), v_px + v_a);
  g.pinsker_amortized = pinsker_bound(g.total_gaps()).mean().item<double>();
  g.pinsker_refined = pinsker_bound(g.approximation_gaps()).mean().item<double>();
  g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return g;
}

Json to_json(const Gaps& g) {
  auto gap = [](const Gap& x) { return Json{{"mean", x.mean}, {"se", x.se}, {"mc_se", x.mc_se}}; };
  return {{"examples", g.examples},
          {"k", g.k},
          {"elbo_particles", g.elbo_particles},
          {"log_px", g.log_px_mean},
          {"elbo_amortized", g.elbo_amortized_mean},
          {"elbo_refined", g.elbo_refined_mean},
          {"approximation_gap", gap(g.approximation)},
          {"amortization_gap", gap(g.amortization)},
          {"total_gap", gap(g.total)},
          {"pinsker_tv_bound_amortized", g.pinsker_amortized},
          {"pinsker_tv_bound_refined", g.pinsker_refined},
          {"refine_steps", g.refined.steps},
          {"refine_converged", g.refined.converged},
          {"seconds", g.seconds}};
}

}  // namespace elbo::diag
