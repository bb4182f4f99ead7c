#include "elbo/diag/regression.h"

#include "elbo/core/json.h"
#include "elbo/core/check.h"

#include <cmath>

namespace elbo::diag {

torch::Tensor mixture_quantiles(const torch::Tensor& means, const torch::Tensor& scales, const std::vector<double>& levels) {
  const torch::Tensor m = means.to(torch::kDouble), s = scales.to(torch::kDouble).expand_as(m);
  std::vector<torch::Tensor> out;
  for (double level : levels) {
    ELBO_CHECK(level > 0 && level < 1, "diag::mixture_quantiles: levels must be in (0, 1) (got ", level, ")");
    torch::Tensor lo = (m - 10 * s).amin(0), hi = (m + 10 * s).amax(0);
    for (int i = 0; i < 60; ++i) {  // the CDF (1/S) sum_s Phi((q - m_s) / s_s) is increasing in q
      const torch::Tensor mid = 0.5 * (lo + hi);
      const torch::Tensor cdf = (0.5 * torch::erfc(-(mid - m) / (s * std::sqrt(2.0)))).mean(0);
      const torch::Tensor below = cdf < level;
      lo = torch::where(below, mid, lo);
      hi = torch::where(below, hi, mid);
    }
    out.push_back(0.5 * (lo + hi));
  }
  return torch::stack(out);
}

RegressionPrediction predict_regression(model::BnnImpl& model, const data::Dataset& data, int64_t draws,
                                        int64_t batch_size) {
  ELBO_CHECK(!model.options().classification, "diag::predict_regression: the network is a classifier");
  ELBO_CHECK(draws >= 1 && batch_size >= 1, "diag::predict_regression: draws and batch_size must be >= 1");
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const torch::Tensor scale = model.noise_scale().to(torch::kCPU, torch::kDouble);  // [T]
  const double nu = model.options().student_df;
  const torch::Tensor noise_variance =
      nu <= 0 ? scale.square() : nu > 2 ? scale.square() * (nu / (nu - 2)) : torch::full_like(scale, INFINITY);
  const torch::Tensor levels = torch::tensor(quantile_levels(), torch::kDouble);
  std::vector<torch::Tensor> mean, sd, quantiles, log_density;
  const auto params = model.parameters();
  const c10::Device device = params.front().device();
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const data::Batch batch = data.slice(begin, std::min(data.size(), begin + batch_size));
    data::Batch input = batch;
    input.x = batch.x.to(device);
    if (batch.mask.defined()) input.mask = batch.mask.to(device);
    const torch::Tensor f = model.outputs(model::encoder_input(input), draws).to(torch::kCPU, torch::kDouble);  // [S, B, T]
    const torch::Tensor m = f.mean(0);
    mean.push_back(m);
    sd.push_back((f.square().mean(0) - m.square()).clamp_min(0).add(noise_variance).sqrt());
    if (nu <= 0) {
      quantiles.push_back(mixture_quantiles(f, scale, quantile_levels()));
    } else {
      const torch::Tensor t = model.sample_noise(f.unsqueeze(0).expand({64, -1, -1, -1})).flatten(0, 1);  // [64 S, B, T]
      quantiles.push_back(torch::quantile(t, levels, 0));
    }
    if (batch.target.defined()) {
      const torch::Tensor log_n = model.log_likelihood(batch.target.to(torch::kDouble), f);
      log_density.push_back((torch::logsumexp(log_n.sum(-1), 0) - std::log(static_cast<double>(draws))));
    }
  }
  model.train(was_training);
  RegressionPrediction p;
  p.mean = torch::cat(mean);
  p.sd = torch::cat(sd);
  p.quantiles = torch::cat(quantiles, 1);
  if (!log_density.empty()) p.log_density = torch::cat(log_density);
  return p;
}

RegressionScores score_regression(const RegressionPrediction& p, const torch::Tensor& targets) {
  ELBO_CHECK(targets.defined() && targets.sizes() == p.mean.sizes() && p.log_density.defined(),
             "diag::score_regression: expected targets ", p.mean.sizes(), " and log densities");
  const torch::Tensor t = targets.to(torch::kDouble);
  RegressionScores s;
  s.examples = t.size(0);
  s.rmse = (p.mean - t).square().mean().sqrt().item<double>();
  s.nll = -p.log_density.mean().item<double>();
  s.coverage50 = ((t >= p.quantiles[1]) & (t <= p.quantiles[3])).to(torch::kDouble).mean().item<double>();
  s.coverage90 = ((t >= p.quantiles[0]) & (t <= p.quantiles[4])).to(torch::kDouble).mean().item<double>();
  return s;
}

Json to_json(const RegressionScores& s) {
  return {{"examples", s.examples}, {"rmse", s.rmse}, {"nll", s.nll}, {"coverage50", s.coverage50},
          {"coverage90", s.coverage90}};
}

}  // namespace elbo::diag
