#include "elbo/diag/refine.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"

#include <torch/autograd.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace elbo::diag {
namespace {

/// Counter offset of the refinement's random stream (apart from the evidence's batch counters).
constexpr uint64_t kRefineStream = 0x7265666e00000000ULL;

c10::Device model_device(model::Model& model) {
  const auto params = model.parameters();
  return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

/// Per-example ELBO [B] under q: E_q log p(x|z) - KL(q||p) with the analytic KL where
/// every latent site has one, else the mean of the K log-weights.
Tensor per_example_elbo(const model::Trace& t) {
  if (t.kl_per_dim().defined()) return t.log_likelihood().mean(0) - t.kl().mean(0);
  return t.log_weights().mean(0);
}

void check_options(const RefineOptions& o) {
  ELBO_CHECK(o.init == "encoder" || o.init == "prior", "diag::refine: init '", o.init,
             "' is not one of: encoder, prior");
  ELBO_CHECK(o.lr > 0 && std::isfinite(o.lr), "diag::refine: lr must be positive (got ", o.lr, ")");
  ELBO_CHECK(o.max_steps >= 1, "diag::refine: max_steps must be >= 1 (got ", o.max_steps, ")");
  ELBO_CHECK(o.particles >= 1, "diag::refine: particles must be >= 1 (got ", o.particles, ")");
  ELBO_CHECK(o.window >= 1, "diag::refine: window must be >= 1 (got ", o.window, ")");
  ELBO_CHECK(o.lr_decays >= 0, "diag::refine: lr_decays must be >= 0 (got ", o.lr_decays, ")");
  ELBO_CHECK(o.tol >= 0, "diag::refine: tol must be >= 0 (got ", o.tol, ")");
  ELBO_CHECK(o.batch_size >= 1, "diag::refine: batch_size must be >= 1 (got ", o.batch_size, ")");
}

Refined refine_batch(model::Model& model, data::Batch batch, const RefineOptions& o, uint64_t counter) {
  const c10::Device device = model_device(model);
  batch.x = batch.x.to(device);
  if (batch.mask.defined()) batch.mask = batch.mask.to(device);
  seed_stream(o.seed, RngStream::evaluation, kRefineStream + counter);

  std::vector<Tensor> params;
  dist::DistributionPtr family;
  {
    torch::NoGradGuard no_grad;
    family = model.posterior(batch);
    for (const auto& p : family->parameters()) {
      params.push_back(p.detach().clone());
      if (o.init == "prior") params.back().zero_();
      params.back().set_requires_grad(true);
    }
  }
  torch::optim::Adam adam(params, torch::optim::AdamOptions(o.lr));
  // Exponential moving average of the iterates (span = window), bias-corrected like Adam's moments.
  const double decay = 1.0 - 2.0 / (static_cast<double>(o.window) + 1.0);
  std::vector<Tensor> ema;
  for (const auto& p : params) ema.push_back(torch::zeros_like(p, torch::TensorOptions().requires_grad(false)));
  double decay_power = 1.0;
  Refined r;
  std::vector<double> trace;
  double best = -std::numeric_limits<double>::infinity();
  int64_t since_best = 0, decays = 0;
  double lr = o.lr;
  bool converged = false;
  for (int64_t step = 0; step < o.max_steps; ++step) {
    const model::Trace t = model.forward_with(batch, family->with_parameters(params), o.particles);
    Tensor elbo = per_example_elbo(t);
    const double mean = elbo.mean().item<double>();
    ELBO_CHECK_NUMERIC(std::isfinite(mean), "diag::refine: the ELBO became ", mean, " at step ", step,
                       "; lower the learning rate (lr = ", o.lr, ")");
    trace.push_back(mean);
    auto grads = torch::autograd::grad({-elbo.sum()}, params);
    for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i];
    adam.step();
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) ema[i].mul_(decay).add_(params[i], 1.0 - decay);
      decay_power *= decay;
    }
    if (mean > best + o.tol) {
      best = mean;
      since_best = 0;
    } else if (++since_best >= o.window) {
      if (decays == o.lr_decays) {
        converged = true;
        break;
      }
      ++decays;
      lr *= 0.1;
      static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options()).lr(lr);
      since_best = 0;
      torch::NoGradGuard no_grad;  // average only the iterates at the new step size
      for (auto& e : ema) e.zero_();
      decay_power = 1.0;
    }
  }
  for (const auto& e : ema) r.parameters.push_back((e / (1.0 - decay_power)).detach());
  r.family = family;
  r.steps = static_cast<int64_t>(trace.size());
  r.converged = converged;
  r.traces.push_back(std::move(trace));
  return r;
}

/// Restores the model's training mode on scope exit.
struct EvalMode {
  model::Model& model;
  bool was_training;
  explicit EvalMode(model::Model& m) : model(m), was_training(m.is_training()) { m.eval(); }
  ~EvalMode() { model.train(was_training); }
};

}  // namespace

Refined refine(model::Model& model, const data::Batch& batch, const RefineOptions& o) {
  check_options(o);
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(0) >= 1 && batch.x.size(1) == model.features(),
             "diag::refine: expected a batch [B >= 1, ", model.features(), "], got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  EvalMode mode(model);
  Refined r = refine_batch(model, batch, o, 0);
  for (auto& p : r.parameters) p = p.cpu();
  return r;
}

Refined refine(model::Model& model, const data::Dataset& data, const RefineOptions& o) {
  check_options(o);
  ELBO_CHECK(data.size() > 0, "diag::refine: the data set '", data.name, "' is empty");
  ELBO_CHECK(data.features() == model.features(), "diag::refine: data '", data.name, "' has ", data.features(),
             " features per example, the model expects ", model.features());
  EvalMode mode(model);
  Refined all;
  std::vector<dist::DistributionPtr> qs;
  uint64_t counter = 0;
  for (int64_t begin = 0; begin < data.size(); begin += o.batch_size) {
    Refined r = refine_batch(model, data.slice(begin, std::min(data.size(), begin + o.batch_size)), o, counter++);
    qs.push_back(r.q());
    all.traces.push_back(std::move(r.traces.front()));
    all.steps = std::max(all.steps, r.steps);
    all.converged = all.converged && r.converged;
  }
  all.family = dist::cat_rows(qs, torch::TensorOptions().device(torch::kCPU));
  all.parameters = all.family->parameters();
  return all;
}

dist::DistributionPtr amortized_posterior(model::Model& model, const data::Dataset& data, int64_t batch_size) {
  ELBO_CHECK(batch_size >= 1, "diag::amortized_posterior: batch_size must be >= 1 (got ", batch_size, ")");
  ELBO_CHECK(data.size() > 0, "diag::amortized_posterior: the data set '", data.name, "' is empty");
  torch::NoGradGuard no_grad;
  EvalMode mode(model);
  const c10::Device device = model_device(model);
  std::vector<dist::DistributionPtr> qs;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    data::Batch batch = data.slice(begin, std::min(data.size(), begin + batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    if (batch.y.defined()) batch.y = batch.y.to(device);  // a conditional model's encoder reads the label
    qs.push_back(model.posterior(batch));
  }
  return dist::cat_rows(qs, torch::TensorOptions().device(torch::kCPU));
}

}  // namespace elbo::diag
