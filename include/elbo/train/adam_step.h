#pragma once
#include "elbo/core/worker_threads.h"

#include <torch/optim/adam.h>

namespace elbo::train {

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
