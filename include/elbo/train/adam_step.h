#pragma once
#include "elbo/core/worker_threads.h"

#include <torch/optim/adam.h>

#include <optional>

namespace elbo::train {

/// One parameter's update at `optimizer`'s next step t: pointers into its state and the
/// step's constants (lr / (1 - b1^t), 1 / sqrt(1 - b2^t)).
struct AdamUpdate {
  float *param = nullptr, *m = nullptr, *v = nullptr;
  int64_t n = 0;
  float beta1 = 0, beta2 = 0, weight_decay = 0, inv_sqrt_bc2 = 0, eps = 0, step_size = 0;
  torch::optim::AdamParamState* state = nullptr;

  /// Updates elements [begin, end) of the parameter and its moments from their gradients
  /// grad[0, end - begin); returns the sum of those gradients' squares (in double).
  double apply(const float* grad, int64_t begin, int64_t end) const;
  /// As apply(), zeroing grad as it is read (a scratch buffer then needs no clearing of its own).
  double apply_clearing(float* grad, int64_t begin, int64_t end) const;
  /// Counts the step in the parameter's state (once, after every share is applied).
  void count() const { state->step(state->step() + 1); }
};

/// The state of parameter `p` in `optimizer`; nullptr when it has none (no step taken yet).
const torch::optim::AdamParamState* find_adam_state(const torch::optim::Adam& optimizer, const torch::Tensor& p);
/// The state of parameter `p`, made (step 0, zero moments) where missing.
torch::optim::AdamParamState& adam_state(torch::optim::Adam& optimizer, const torch::Tensor& p);

/// The next step's update of parameter `p` of `optimizer`, its state made where missing; nullopt
/// when the fused loop does not apply (AMSGrad, not float32, not contiguous on the CPU) or `p`
/// is not one of the optimizer's parameters.
std::optional<AdamUpdate> next_adam_update(torch::optim::Adam& optimizer, const torch::Tensor& p);

/// One step of `optimizer` (Adam, Kingma & Ba 2015) as a single fused loop per
/// parameter over the optimizer's own state (so checkpoints and
/// torch::optim::Adam::step stay interchangeable):
///   g += wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
///   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// ATen's step makes about eight passes and temporaries per parameter; this one pass.
/// With `threads`, each thread updates its share of every large parameter.
/// Falls back to optimizer.step() for AMSGrad and non-float32 or non-CPU parameters.
void adam_step(torch::optim::Adam& optimizer, WorkerThreads* threads = nullptr);

}  // namespace elbo::train
