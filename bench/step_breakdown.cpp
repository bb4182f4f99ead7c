/// Where the time of one training step goes, for the default model (784-400-20
/// MLP VAE, Bernoulli, batch 128): the autograd path (model forward, Elbo
/// objective, backward, LibTorch Adam) and the hand-written path
/// (train::FusedVaeStep, then train::adam_step or Adam inside the step, as the
/// trainer runs it), microseconds per step over the same batches. Run on a quiet machine:
///     build/bench/elbo_step_breakdown [steps]
#include "elbo/core/blas_threads.h"
#include "elbo/core/config.h"
#include "elbo/core/device.h"
#include "elbo/data/load.h"
#include "elbo/model/factory.h"
#include "elbo/model/vae.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/fused_vae_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using Clock = std::chrono::steady_clock;
using namespace elbo;

namespace {

double lap(Clock::time_point& start) {
  const auto now = Clock::now();
  const double us = std::chrono::duration<double, std::micro>(now - start).count();
  start = now;
  return us;
}

void run(bool fused, const data::Dataset& train, const Config& config, int steps, int kernel_threads,
         bool adam_inside = false) {
  auto model = std::dynamic_pointer_cast<model::VaeImpl>(model::make_model(config, train.features(), train.image));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  WorkerThreads threads(kernel_threads);
  std::unique_ptr<train::FusedVaeStep> step;
  if (fused) step = std::make_unique<train::FusedVaeStep>(*model, &threads);
  const torch::Tensor order = torch::randperm(train.size(), torch::kLong);
  const char* names[4] = {"batch gather", "forward", "backward", "adam"};
  double total[4] = {0, 0, 0, 0};
  for (int i = 0; i < steps + 20; ++i) {
    auto start = Clock::now();
    data::Batch batch = train.batch(order.slice(0, (i % 400) * 128, (i % 400 + 1) * 128), fused ? &threads : nullptr);
    double t[4] = {lap(start), 0, 0, 0};
    double loss = 0;
    if (fused) {
      const torch::Tensor eps = torch::randn({1, batch.size(), model->latent_dim()})[0];
      loss = (*step)(batch.x, eps, 1.0, adam_inside ? &adam : nullptr).loss.item<double>();
      t[1] = lap(start);  // forward and backward together (and Adam, inside)
      if (!step->updated()) train::adam_step(adam, &threads);
      t[3] = lap(start);
    } else {
      objective::Value v = objective::beta_elbo(model->forward(batch, 1), 1.0, true);
      loss = v.loss.item<double>();
      t[1] = lap(start);
      adam.zero_grad();
      v.loss.backward();
      t[2] = lap(start);
      adam.step();
      t[3] = lap(start);
    }
    if (!std::isfinite(loss)) std::exit(1);
    if (i >= 20)
      for (int k = 0; k < 4; ++k) total[k] += t[k] / steps;
  }
  if (fused)
    std::printf("hand-written path (FusedVaeStep %s), %d kernel thread(s)%s\n",
                adam_inside ? "with Adam inside" : "+ adam_step", kernel_threads,
                kernel_threads > 1 ? ", single-threaded BLAS calls" : ", multi-threaded BLAS calls");
  else
    std::printf("autograd path (LibTorch ops + torch::optim::Adam)\n");
  double sum = 0;
  for (int k = 0; k < 4; ++k) {
    if (fused && k == 2) continue;
    if (adam_inside && k == 3) continue;
    std::printf("  %-18s %8.1f us\n", fused && k == 1 ? (adam_inside ? "fwd+bwd+adam" : "forward+backward") : names[k],
                total[k]);
    sum += total[k];
  }
  std::printf("  %-18s %8.1f us  (%.2f s per 60000-example epoch, %.0f examples/s)\n", "step", sum, sum * 469e-6,
              128e6 / sum);
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 400;
  Config config;
  config.set("data.validation=0");
  set_threads(0);
  const auto data = data::load_data(config);
  const int team = std::max(1, blas_threads());  // as the trainer does
  run(false, data.train, config, steps, 1);
  run(true, data.train, config, steps, 1);
  if (team > 1) run(true, data.train, config, steps, team);
  run(true, data.train, config, steps, team, true);
}
