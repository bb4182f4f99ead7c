#include "elbo/train/adam_step.h"

#include "elbo/core/fast_math.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace elbo::train {
namespace {

/// Parameters at least this large are split between the threads.
constexpr int64_t kParallelElements = 1 << 16;

/// Adam's update of n elements; returns sum g^2, free here since the loop waits on memory.
/// kClear: g is zeroed as it is read.
template <bool kClear>
ELBO_FAST_INLINE double adam_elements(float* p, std::conditional_t<kClear, float*, const float*> g, float* m, float* v,
                                      int64_t n, float b1, float b2, float weight_decay, float inv_sqrt_bc2, float eps,
                                      float step_size) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  double squares = 0;
#pragma omp simd reduction(+ : squares)
  for (int64_t i = 0; i < n; ++i) {
    squares += static_cast<double>(g[i]) * g[i];
    const float grad = g[i] + weight_decay * p[i];
    if constexpr (kClear) g[i] = 0.0f;
    const float mi = m[i] * b1 + c1 * grad;
    const float vi = v[i] * b2 + c2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
  return squares;
}

ELBO_VECTOR_CLONES double adam_loop(float* p, const float* g, float* m, float* v, int64_t n, float b1, float b2,
                                    float weight_decay, float inv_sqrt_bc2, float eps, float step_size) {
  return adam_elements<false>(p, g, m, v, n, b1, b2, weight_decay, inv_sqrt_bc2, eps, step_size);
}

ELBO_VECTOR_CLONES double adam_loop_clearing(float* p, float* g, float* m, float* v, int64_t n, float b1, float b2,
                                             float weight_decay, float inv_sqrt_bc2, float eps, float step_size) {
  return adam_elements<true>(p, g, m, v, n, b1, b2, weight_decay, inv_sqrt_bc2, eps, step_size);
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

const torch::optim::AdamParamState* find_adam_state(const torch::optim::Adam& optimizer, const torch::Tensor& p) {
  const auto& state = optimizer.state();
  const auto it = state.find(state_key(state, p));
  return it == state.end() ? nullptr : static_cast<const torch::optim::AdamParamState*>(it->second.get());
}

torch::optim::AdamParamState& adam_state(torch::optim::Adam& optimizer, const torch::Tensor& p) {
  auto& state = optimizer.state();
  auto& slot = state[state_key(state, p)];
  if (!slot) {
    auto fresh = std::make_unique<torch::optim::AdamParamState>();
    fresh->step(0);
    fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    slot = std::move(fresh);
  }
  return static_cast<torch::optim::AdamParamState&>(*slot);
}

double AdamUpdate::apply(const float* grad, int64_t begin, int64_t end) const {
  return adam_loop(param + begin, grad, m + begin, v + begin, end - begin, beta1, beta2, weight_decay, inv_sqrt_bc2,
                   eps, step_size);
}

double AdamUpdate::apply_clearing(float* grad, int64_t begin, int64_t end) const {
  return adam_loop_clearing(param + begin, grad, m + begin, v + begin, end - begin, beta1, beta2, weight_decay,
                            inv_sqrt_bc2, eps, step_size);
}

std::optional<AdamUpdate> next_adam_update(torch::optim::Adam& optimizer, const torch::Tensor& p) {
  for (auto& group : optimizer.param_groups()) {
    const auto& params = group.params();
    if (std::none_of(params.begin(), params.end(), [&](const torch::Tensor& q) { return q.is_same(p); })) continue;
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    if (o.amsgrad() || p.scalar_type() != torch::kFloat || !p.device().is_cpu() || !p.is_contiguous() ||
        (p.grad().defined() && !p.grad().is_contiguous()))
      return std::nullopt;
    auto& s = adam_state(optimizer, p);
    if (!s.exp_avg().is_contiguous()) s.exp_avg(s.exp_avg().contiguous());
    if (!s.exp_avg_sq().is_contiguous()) s.exp_avg_sq(s.exp_avg_sq().contiguous());
    const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
    const double t = static_cast<double>(s.step() + 1);
    const double bc1 = 1 - std::pow(beta1, t), bc2 = 1 - std::pow(beta2, t);
    return AdamUpdate{p.data_ptr<float>(),
                      s.exp_avg().data_ptr<float>(),
                      s.exp_avg_sq().data_ptr<float>(),
                      p.numel(),
                      static_cast<float>(beta1),
                      static_cast<float>(beta2),
                      static_cast<float>(o.weight_decay()),
                      static_cast<float>(1 / std::sqrt(bc2)),
                      static_cast<float>(o.eps()),
                      static_cast<float>(o.lr() / bc1),
                      &s};
  }
  return std::nullopt;
}

void adam_step(torch::optim::Adam& optimizer, WorkerThreads* threads) {
  torch::NoGradGuard no_grad;
  // One update per parameter with a gradient, its state made here (on the calling thread).
  std::vector<std::pair<AdamUpdate, const float*>> updates;
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const std::optional<AdamUpdate> u = next_adam_update(optimizer, p);
      if (!u) return void(optimizer.step());
      updates.emplace_back(*u, p.grad().data_ptr<float>());
    }
  for (const auto& [u, grad] : updates) u.count();
  // Every thread takes its share of each parameter (the small ones whole, by turns).
  const int parts = threads ? threads->size() : 1;
  auto job = [&](int part) {
    for (size_t i = 0; i < updates.size(); ++i) {
      const auto& [u, grad] = updates[i];
      int64_t begin = 0, end = u.n;
      if (u.n >= kParallelElements) std::tie(begin, end) = part_range(u.n, part, parts);
      else if (static_cast<int>(i % parts) != part) continue;
      u.apply(grad + begin, begin, end);
    }
  };
  if (threads) threads->run(job);
  else job(0);
}

}  // namespace elbo::train
