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
/// every group has one, else the mean of the K log-weights.
Tensor per_example_elbo(const model::Terms& t) {
  Tensor kl = t.analytic_kl();
  if (kl.defined()) return t.log_px_z.mean(0) - kl.mean(0);
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

  Tensor loc, log_scale;
  {
    torch::NoGradGuard no_grad;
    dist::Normal q0 = model.posterior(batch);
    loc = q0.loc().detach().clone();
    log_scale = q0.log_scale().detach().expand_as(q0.loc()).clone();
    if (o.init == "prior") {
      loc.zero_();
      log_scale.zero_();
    }
  }
  loc.set_requires_grad(true);
  log_scale.set_requires_grad(true);
  torch::optim::Adam adam(std::vector<Tensor>{loc, log_scale}, torch::optim::AdamOptions(o.lr));

  // Exponential moving average of the iterates (span = window), bias-corrected like Adam's moments.
  const double decay = 1.0 - 2.0 / (static_cast<double>(o.window) + 1.0);
  Tensor ema_loc = torch::zeros_like(loc), ema_log_scale = torch::zeros_like(log_scale);
  double decay_power = 1.0;

  Refined r;
  std::vector<double> trace;
  double best = -std::numeric_limits<double>::infinity();
  int64_t since_best = 0, decays = 0;
  double lr = o.lr;
  bool converged = false;
  for (int64_t step = 0; step < o.max_steps; ++step) {
    model::Terms t = model.forward_with(batch, dist::Normal(loc, log_scale), o.particles);
    Tensor elbo = per_example_elbo(t);
    const double mean = elbo.mean().item<double>();
    ELBO_CHECK_NUMERIC(std::isfinite(mean), "diag::refine: the ELBO became ", mean, " at step ", step,
                       "; lower the learning rate (lr = ", o.lr, ")");
    trace.push_back(mean);
    auto grads = torch::autograd::grad({-elbo.sum()}, {loc, log_scale});
    loc.mutable_grad() = grads[0];
    log_scale.mutable_grad() = grads[1];
    adam.step();
    {
      torch::NoGradGuard no_grad;
      ema_loc.mul_(decay).add_(loc, 1.0 - decay);
      ema_log_scale.mul_(decay).add_(log_scale, 1.0 - decay);
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
      ema_loc.zero_();
      ema_log_scale.zero_();
      decay_power = 1.0;
    }
  }
  r.loc = (ema_loc / (1.0 - decay_power)).detach();
  r.log_scale = (ema_log_scale / (1.0 - decay_power)).detach();
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
  r.loc = r.loc.cpu();
  r.log_scale = r.log_scale.cpu();
  return r;
}

Refined refine(model::Model& model, const data::Dataset& data, const RefineOptions& o) {
  check_options(o);
  ELBO_CHECK(data.size() > 0, "diag::refine: the data set '", data.name, "' is empty");
  ELBO_CHECK(data.features() == model.features(), "diag::refine: data '", data.name, "' has ", data.features(),
             " features per example, the model expects ", model.features());
  EvalMode mode(model);
  Refined all;
  std::vector<Tensor> locs, log_scales;
  uint64_t counter = 0;
  for (int64_t begin = 0; begin < data.size(); begin += o.batch_size) {
    Refined r = refine_batch(model, data.slice(begin, std::min(data.size(), begin + o.batch_size)), o, counter++);
    locs.push_back(r.loc.cpu());
    log_scales.push_back(r.log_scale.cpu());
    all.traces.push_back(std::move(r.traces.front()));
    all.steps = std::max(all.steps, r.steps);
    all.converged = all.converged && r.converged;
  }
  all.loc = torch::cat(locs);
  all.log_scale = torch::cat(log_scales);
  return all;
}

}  // namespace elbo::diag
