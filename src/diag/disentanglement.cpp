#include "elbo/diag/disentanglement.h"

#include "elbo/core/check.h"
#include "elbo/core/json.h"

#include <cmath>
#include <limits>

namespace elbo::diag {

using torch::Tensor;

Mig mig(const Tensor& codes, const Tensor& factors, const MigOptions& o) {
  ELBO_CHECK(o.bins >= 2, "diag::mig: bins must be >= 2 (got ", o.bins, ")");
  ELBO_CHECK(codes.defined() && codes.dim() == 2 && codes.is_floating_point() && codes.size(1) >= 1,
             "diag::mig: codes must be a floating [N, D] tensor with D >= 1");
  ELBO_CHECK(factors.defined() && factors.dim() == 2 && !factors.is_floating_point() && factors.size(1) >= 1,
             "diag::mig: factors must be an integer [N, F] tensor with F >= 1");
  ELBO_CHECK(codes.size(0) == factors.size(0) && codes.size(0) >= 2, "diag::mig: codes ", codes.sizes(), " and factors ",
             factors.sizes(), " must have the same number N >= 2 of rows");
  const Tensor z = codes.detach().to(torch::kCPU, torch::kDouble);
  ELBO_CHECK(torch::isfinite(z).all().item<bool>(), "diag::mig: codes must be finite");
  const int64_t n = z.size(0), d = z.size(1), f = factors.size(1), b = o.bins;

  // Equal-width bins over each dimension's range (a constant dimension falls in bin 0).
  const Tensor lo = z.amin(0), width = z.amax(0) - lo;
  const Tensor bin = ((z - lo) / torch::where(width > 0, width, torch::ones_like(width)) * b)
                         .floor()
                         .clamp(0, b - 1)
                         .to(torch::kLong);                                         // [N, D]
  const Tensor dim_offset = torch::arange(d, torch::kLong).view({1, d}) * b;

  Mig m;
  m.examples = n;
  m.bins = b;
  m.mutual_information = torch::zeros({d, f}, torch::kDouble);
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  int64_t varying = 0;
  for (int64_t k = 0; k < f; ++k) {
    const auto [values, v, counts] = torch::_unique2(factors.select(1, k).cpu(), true, true, true);
    const int64_t classes = values.numel();
    const Tensor pv = counts.to(torch::kDouble) / n;
    const double entropy = -(pv * pv.log()).sum().item<double>();
    // Joint histogram of (bin of z_d, v_k) for every d at once: [D, B, V].
    const Tensor cell = ((dim_offset + bin) * classes + v.view({n, 1})).reshape({-1});
    const Tensor joint = torch::bincount(cell, {}, d * b * classes).to(torch::kDouble).view({d, b, classes}) / n;
    const Tensor pz = joint.sum(2, true), pvk = joint.sum(1, true);
    const Tensor terms = torch::where(joint > 0, joint * (joint.log() - pz.log() - pvk.log()), torch::zeros_like(joint));
    const Tensor mi = terms.sum({1, 2}).clamp_min(0);  // [D]; clamp: rounding only
    m.mutual_information.select(1, k).copy_(mi);
    const auto [top, index] = mi.topk(std::min<int64_t>(2, d));
    const double first = top[0].item<double>(), second = d > 1 ? top[1].item<double>() : 0.0;
    m.factor_names.push_back("factor" + std::to_string(k));
    m.entropies.push_back(entropy);
    m.best_dims.push_back(index[0].item<int64_t>());
    m.gaps.push_back(classes > 1 ? (first - second) / entropy : nan);
    if (classes > 1) sum += m.gaps.back(), ++varying;
  }
  ELBO_CHECK(varying > 0, "diag::mig: every factor takes a single value among the ", n,
             " examples; MIG needs factors that vary");
  m.mig = sum / static_cast<double>(varying);
  return m;
}

Mig estimate_mig(model::Model& model, const data::Dataset& data, const MigOptions& o) {
  ELBO_CHECK(data.factors.defined(), "diag::estimate_mig: the data set '", data.name, "' has no known factors");
  ELBO_CHECK(data.features() == model.features(), "diag::estimate_mig: data '", data.name, "' has ", data.features(),
             " features per example, the model expects ", model.features());
  ELBO_CHECK(o.batch_size >= 1, "diag::estimate_mig: batch_size must be >= 1 (got ", o.batch_size, ")");
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  std::vector<Tensor> means;
  for (int64_t begin = 0; begin < data.size(); begin += o.batch_size) {
    data::Batch batch = data.slice(begin, std::min(data.size(), begin + o.batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    means.push_back(model.posterior(batch)->mean().to(torch::kCPU, torch::kDouble));
  }
  model.train(was_training);
  ELBO_CHECK(!means.empty(), "diag::estimate_mig: the data set '", data.name, "' is empty");
  Mig m = mig(torch::cat(means), data.factors, o);
  if (data.factor_names.size() == m.factor_names.size()) m.factor_names = data.factor_names;
  return m;
}

Json to_json(const Mig& m) {
  Json factors = Json::array();
  for (size_t k = 0; k < m.gaps.size(); ++k)
    factors.push_back({{"name", m.factor_names[k]}, {"gap", m.gaps[k]}, {"entropy", m.entropies[k]},
                       {"best_dim", m.best_dims[k]}, {"mutual_information", json_array(m.mutual_information.select(1, k))}});
  return {{"mig", m.mig}, {"bins", m.bins}, {"examples", m.examples}, {"factors", factors}};
}

}  // namespace elbo::diag
