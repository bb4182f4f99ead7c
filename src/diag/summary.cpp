#include "elbo/diag/summary.h"

#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include <cmath>

namespace elbo::diag {
namespace {

double mean_se(const torch::Tensor& t) {
  const int64_t n = t.numel();
  return n > 1 ? t.std().item<double>() / std::sqrt(static_cast<double>(n)) : 0.0;
}

}  // namespace

Summary summarize(const Evidence& e, double threshold) {
  // A non-finite bound is a failed model, not a number to average (a posterior log-scale below about -87
  // underflows exp in float32, and the Gaussian's log-density of its own sample is then 0/0).
  const torch::Tensor bad = ~(torch::isfinite(e.elbo) & torch::isfinite(e.log_px));
  if (const int64_t count = bad.sum().item<int64_t>(); count > 0) {
    const int64_t first = bad.nonzero()[0][0].item<int64_t>();
    ELBO_CHECK_NUMERIC(false, count, " of ", bad.numel(), " examples have a non-finite ELBO or IWAE estimate (the first: "
                       "example ", first + 1, ", ELBO ", e.elbo[first].item<double>(), "): the model diverged or a "
                       "posterior scale underflowed",
                       e.kl_per_dim.defined() ? detail::concat("; the largest KL of one latent dimension is ",
                                                               e.kl_per_dim.max().item<double>(), " nats")
                                              : std::string());
  }
  Summary s;
  s.examples = e.log_px.numel();
  s.k = e.k;
  s.seconds = e.seconds;
  s.elbo = e.elbo.mean().item<double>();
  s.reconstruction = e.reconstruction.mean().item<double>();
  s.kl = e.kl.mean().item<double>();
  s.log_px = e.log_px.mean().item<double>();
  // Spread over examples plus the Monte Carlo error of each estimate.
  const double n = static_cast<double>(s.examples);
  const double mc_var = e.log_px_mc_se.pow(2).mean().item<double>() / n;
  s.log_px_se = std::sqrt(std::pow(mean_se(e.log_px), 2) + mc_var);
  torch::Tensor gap = e.log_px - e.elbo;
  s.gap = gap.mean().item<double>();
  s.gap_se = mean_se(gap);
  s.pinsker_tv = torch::clamp_max(torch::sqrt(torch::clamp_min(gap, 0) / 2), 1.0).mean().item<double>();
  if (e.q_mean.defined() && e.q_mean.size(0) >= 2) s.activity = latent_activity(e.q_mean, e.kl_per_dim, threshold);
  int64_t offset = 0;
  for (size_t i = 0; i < e.groups.size(); ++i) {
    GroupSummary g{e.groups[i], e.group_dims[i]};
    if (e.group_kl.defined()) g.kl = e.group_kl.select(1, static_cast<int64_t>(i)).mean().item<double>();
    if (s.activity.activity.defined())
      g.active_units = (s.activity.activity.narrow(0, offset, g.dims) > threshold).sum().item<int64_t>();
    offset += g.dims;
    s.groups.push_back(std::move(g));
  }
  return s;
}

Json to_json(const Summary& s) {
  Json groups = Json::array();
  for (const auto& g : s.groups)
    groups.push_back({{"name", g.name}, {"dims", g.dims}, {"kl", g.kl}, {"active_units", g.active_units}});
  return {{"examples", s.examples},
          {"k", s.k},
          {"elbo", s.elbo},
          {"reconstruction", s.reconstruction},
          {"kl", s.kl},
          {"log_px", s.log_px},
          {"log_px_se", s.log_px_se},
          {"elbo_gap", s.gap},
          {"elbo_gap_se", s.gap_se},
          {"pinsker_tv_bound", s.pinsker_tv},
          {"seconds", s.seconds},
          {"examples_per_s", s.seconds > 0 ? s.examples / s.seconds : 0.0},
          {"active_units", s.activity.active_units},
          {"kl_per_dim", json_array(s.activity.kl_per_dim)},
          {"activity", json_array(s.activity.activity)},
          {"groups", groups}};
}

}  // namespace elbo::diag
