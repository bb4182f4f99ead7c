#include "elbo/train/adam_step.h"

#include "elbo/core/fast_math.h"

#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace elbo::train {
namespace {

/// Parameters at least this large are split between the threads.
constexpr int64_t kParallelElements = 1 << 16;

ELBO_VECTOR_CLONES void adam_loop(float* p, const float* g, float* m, float* v, int64_t n, float b1, float b2,
                                  float weight_decay, float inv_sqrt_bc2, float eps, float step_size) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (int64_t i = 0; i < n; ++i) {
    const float grad = g[i] + weight_decay * p[i];
    const float mi = m[i] * b1 + c1 * grad;
    const float vi = v[i] * b2 + c2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

/// The optimizer's state key of a parameter: LibTorch 1.x keys by the printed
/// TensorImpl address, 2.x by the address itself.
template <class Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>)
    return c10::guts::to_string(p.unsafeGetTensorImpl());
  else
    return p.unsafeGetTensorImpl();
}

}  // namespace

void adam_step(torch::optim::Adam& optimizer, WorkerThreads* threads) {
  torch::NoGradGuard no_grad;
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (const auto& p : group.params())
      if (o.amsgrad() || p.scalar_type() != torch::kFloat || !p.device().is_cpu() ||
          (p.grad().defined() && !p.grad().is_contiguous()) || !p.is_contiguous())
        return void(optimizer.step());
  }
  // One update per parameter with a gradient, its state made here (on the calling thread).
  struct Update {
    float *param, *m, *v;
    const float* grad;
    int64_t n;
    float beta1, beta2, weight_decay, inv_sqrt_bc2, eps, step_size;
  };
  std::vector<Update> updates;
  auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state[state_key(state, p)];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        slot = std::move(fresh);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      if (!s.exp_avg().is_contiguous()) s.exp_avg(s.exp_avg().contiguous());
      if (!s.exp_avg_sq().is_contiguous()) s.exp_avg_sq(s.exp_avg_sq().contiguous());
      s.step(s.step() + 1);
      const double bc1 = 1 - std::pow(beta1, s.step()), bc2 = 1 - std::pow(beta2, s.step());
      updates.push_back({p.data_ptr<float>(), s.exp_avg().data_ptr<float>(), s.exp_avg_sq().data_ptr<float>(),
                         p.grad().data_ptr<float>(), p.numel(), static_cast<float>(beta1), static_cast<float>(beta2),
                         static_cast<float>(o.weight_decay()), static_cast<float>(1 / std::sqrt(bc2)),
                         static_cast<float>(o.eps()), static_cast<float>(o.lr() / bc1)});
    }
  }
  // Every thread takes its share of each parameter (the small ones whole, by turns).
  const int parts = threads ? threads->size() : 1;
  auto job = [&](int part) {
    for (size_t i = 0; i < updates.size(); ++i) {
      const Update& u = updates[i];
      int64_t begin = 0, end = u.n;
      if (u.n >= kParallelElements) std::tie(begin, end) = part_range(u.n, part, parts);
      else if (static_cast<int>(i % parts) != part) continue;
      adam_loop(u.param + begin, u.grad + begin, u.m + begin, u.v + begin, end - begin, u.beta1, u.beta2,
                u.weight_decay, u.inv_sqrt_bc2, u.eps, u.step_size);
    }
  };
  if (threads) threads->run(job);
  else job(0);
}

}  // namespace elbo::train
