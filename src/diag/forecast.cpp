#include "elbo/diag/forecast.h"

#include "elbo/core/json.h"
#include "elbo/core/check.h"


namespace elbo::diag {

torch::Tensor crps(const torch::Tensor& samples, const torch::Tensor& truth) {
  ELBO_CHECK(samples.dim() == 2 && truth.dim() == 1 && truth.size(0) <= samples.size(1) && samples.size(0) >= 1,
             "diag::crps: expected samples [S, H] and a truth [H' <= H], got ", samples.sizes(), " and ", truth.sizes());
  const int64_t s = samples.size(0), h = truth.size(0);
  const torch::Tensor x = std::get<0>(samples.slice(1, 0, h).to(torch::kDouble).sort(0));  // [S, H']
  const torch::Tensor i = torch::arange(1, s + 1, torch::kDouble).unsqueeze(1);
  const torch::Tensor spread = (2 * i - s - 1).mul(x).sum(0) * (2.0 / (static_cast<double>(s) * s));
  return (x - truth.to(torch::kDouble)).abs().mean(0) - 0.5 * spread;
}

ForecastScores score_forecast(const torch::Tensor& paths, const torch::Tensor& truth) {
  const torch::Tensor crps_steps = crps(paths, truth);
  const int64_t h = truth.size(0);
  const torch::Tensor p = paths.to(torch::kDouble);
  const torch::Tensor levels = torch::tensor({0.05, 0.25, 0.5, 0.75, 0.95}, torch::kDouble);
  const torch::Tensor q = torch::quantile(p, levels, 0);  // [5, H]
  const torch::Tensor y = truth.to(torch::kDouble);
  const torch::Tensor qh = q.slice(1, 0, h);
  ForecastScores s;
  s.quantiles = q;
  s.steps = h;
  if (h > 0) {
    s.coverage50 = ((y >= qh[1]) & (y <= qh[3])).to(torch::kDouble).mean().item<double>();
    s.coverage90 = ((y >= qh[0]) & (y <= qh[4])).to(torch::kDouble).mean().item<double>();
    s.crps = crps_steps.mean().item<double>();
    s.mae = (qh[2] - y).abs().mean().item<double>();
  }
  for (int64_t horizon : {1, 13, 52, 260})
    if (horizon <= p.size(1)) s.width90.emplace_back(horizon, (q[4][horizon - 1] - q[0][horizon - 1]).item<double>());
  return s;
}

Json to_json(const ForecastScores& s) {
  Json width = Json::object();
  for (const auto& [horizon, w] : s.width90) width[std::to_string(horizon)] = w;
  return {{"steps", s.steps}, {"coverage50", s.coverage50}, {"coverage90", s.coverage90}, {"crps", s.crps},
          {"mae", s.mae},     {"width90", width}};
}

}  // namespace elbo::diag
