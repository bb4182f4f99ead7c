#include "elbo/diag/information.h"

#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/core/rng.h"

#include <cmath>

namespace elbo::diag {
namespace {

/// Counter offset of the information estimate's random stream.
constexpr uint64_t kInformationStream = 0x696e666f00000000ULL;

double se_of_mean(const torch::Tensor& t) {
  return t.numel() > 1 ? t.std().item<double>() / std::sqrt(static_cast<double>(t.numel())) : 0.0;
}

}  // namespace

Information estimate_information(model::Model& model, const data::Dataset& data, const InformationOptions& o) {
  ELBO_CHECK(o.particles >= 1, "diag::estimate_information: particles must be >= 1 (got ", o.particles, ")");
  ELBO_CHECK(o.batch_size >= 1 && o.max_elements >= 1,
             "diag::estimate_information: batch_size and max_elements must be positive");
  ELBO_CHECK(data.size() >= 2, "diag::estimate_information: needs at least 2 examples for the aggregate posterior (got ",
             data.size(), " in '", data.name, "')");
  ELBO_CHECK(data.features() == model.features(), "diag::estimate_information: data '", data.name, "' has ",
             data.features(), " features per example, the model expects ", model.features());
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  const int64_t n = data.size();

  // Pass 1: q(z|x_n) of every example; rate and distortion from the model's terms.
  std::vector<dist::DistributionPtr> qs;
  std::vector<torch::Tensor> rates, distortions;
  uint64_t counter = 0;
  for (int64_t begin = 0; begin < n; begin += o.batch_size) {
    data::Batch batch = data.slice(begin, std::min(n, begin + o.batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    qs.push_back(model.posterior(batch));
    seed_stream(o.seed, RngStream::evaluation, kInformationStream + counter++);
    const model::Trace t = model.forward(batch, o.particles);
    rates.push_back(t.kl(t.kl_per_dim().defined()).mean(0).to(torch::kDouble).cpu());
    distortions.push_back((-t.log_likelihood().mean(0)).to(torch::kDouble).cpu());
  }
  const auto cpu_double = torch::TensorOptions().device(torch::kCPU).dtype(torch::kDouble);
  const dist::DistributionPtr all = dist::cat_rows(qs, cpu_double);  // q(z | x_n) for every n, [N, D]
  const int64_t d = all->sample_shape().back();
  // Pass 2: for z ~ q(z|x_n), log q(z|x_n) - log (1/N) sum_m q(z|x_m).
  const int64_t rows_at_once = std::max<int64_t>(1, o.max_elements / (n * d));
  const double log_n = std::log(static_cast<double>(n));
  std::vector<torch::Tensor> terms;
  for (int64_t begin = 0; begin < n; begin += o.batch_size) {
    const int64_t end = std::min(n, begin + o.batch_size);
    const dist::DistributionPtr q = dist::slice_rows(*all, begin, end, cpu_double);
    seed_stream(o.seed, RngStream::evaluation, kInformationStream + counter++);
    torch::Tensor z = q->sample(o.particles);               // [S, b, D]
    torch::Tensor own = q->log_prob(z).reshape({-1});       // [S*b]
    torch::Tensor flat = z.reshape({-1, d});                // [S*b, D]
    std::vector<torch::Tensor> aggregate;
    for (int64_t r = 0; r < flat.size(0); r += rows_at_once) {
      torch::Tensor rows = flat.slice(0, r, std::min(flat.size(0), r + rows_at_once)).unsqueeze(1);  // [r, 1, D]
      aggregate.push_back(torch::logsumexp(all->log_prob(rows), 1) - log_n);                         // [r]
    }
    terms.push_back((own - torch::cat(aggregate)).cpu());
  }
  model.train(was_training);

  const torch::Tensor mi = torch::cat(terms), rate = torch::cat(rates), distortion = torch::cat(distortions);
  Information info;
  info.examples = n;
  info.particles = o.particles;
  info.log_n = log_n;
  info.mutual_information = mi.mean().item<double>();
  info.mutual_information_se = se_of_mean(mi);
  info.rate = rate.mean().item<double>();
  info.rate_se = se_of_mean(rate);
  info.distortion = distortion.mean().item<double>();
  info.distortion_se = se_of_mean(distortion);
  info.marginal_kl = info.rate - info.mutual_information;
  return info;
}

Json to_json(const Information& i) {
  return {{"examples", i.examples},       {"particles", i.particles},   {"mutual_information", i.mutual_information},
          {"mutual_information_se", i.mutual_information_se},           {"log_n", i.log_n},
          {"rate", i.rate},               {"rate_se", i.rate_se},       {"distortion", i.distortion},
          {"distortion_se", i.distortion_se}, {"marginal_kl", i.marginal_kl}};
}

}  // namespace elbo::diag
