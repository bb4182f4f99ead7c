#include "elbo/nn/gaussian_weights.h"

#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>

#pragma GCC diagnostic ignored "-Wpsabi"  // vectors pass between always-inlined functions only

namespace elbo::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr double kHalfLog2Pi = 0.91893853320467274178;

/// Splits [0, n) into chunks run on LibTorch's intra-op threads; f(chunk, begin, end).
template <typename F>
void for_chunks(int64_t n, int64_t chunks, F&& f) {
  const int64_t size = (n + chunks - 1) / chunks;
  at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) f(c, c * size, std::min(n, (c + 1) * size));
  });
}

/// The prior's constants: log N(w; 0, s^2) = -h w^2 - log s - log(2 pi) / 2 with h = 1 / (2 s^2).
struct PriorConstants {
  bool mixture;
  double a0, b0, h1, h2;  ///< mixture: log pi - log s1, log(1 - pi) - log s2, 1 / (2 s1^2), 1 / (2 s2^2)
  double h, log_sigma;    ///< Gaussian
  explicit PriorConstants(const WeightPrior& p)
      : mixture(p.kind == WeightPrior::Kind::mixture),
        a0(std::log(p.pi) - std::log(p.sigma1)),
        b0(std::log1p(-p.pi) - std::log(p.sigma2)),
        h1(0.5 / (p.sigma1 * p.sigma1)),
        h2(0.5 / (p.sigma2 * p.sigma2)),
        h(0.5 / (p.sigma * p.sigma)),
        log_sigma(std::log(p.sigma)) {}
};

/// One weight (or 8 of them) at w = m + s e, s = softplus(r), up to the constants -log(2 pi) / 2:
/// q = log q(w) = -e^2 / 2 - log s, p = log p(w), and the derivatives the backward pass needs,
/// g = d log p / dw, dq = d log q / dr = -sigmoid(r) / s, ds = dw / dr = e sigmoid(r). Float
/// math from core/fast_math.h (one e^-|r|, one e^-|d| for the mixture's two components d apart).
template <class T>
ELBO_FAST_INLINE void weight_densities(T m, T r, T e, const PriorConstants& k, T& q, T& p, T& g, T& dq, T& ds) {
  const T ex = fast::exp_nonpositive(-fast::abs(r));
  const T s = fast::relu(r) + fast::log1p_unit(ex);
  const T inverse = 1.0f / (1.0f + ex);
  const T sigmoid = r >= fast::splat<T>(0.0f) ? inverse : ex * inverse;
  const T w = m + s * e, w2 = w * w;
  q = -0.5f * e * e - fast::log_positive(s);
  dq = -sigmoid / s;
  ds = e * sigmoid;
  if (k.mixture) {  // p = max(a, b) + log(1 + e^-|a - b|); the wide component's responsibility sigmoid(a - b)
    const T a = static_cast<float>(k.a0) - static_cast<float>(k.h1) * w2;
    const T b = static_cast<float>(k.b0) - static_cast<float>(k.h2) * w2;
    const T d = a - b, ed = fast::exp_nonpositive(-fast::abs(d)), inverse_d = 1.0f / (1.0f + ed);
    // Both responsibilities from e^-|d| (1 - wide would lose the narrow one's digits, which h2 magnifies).
    const T wide = d >= fast::splat<T>(0.0f) ? inverse_d : ed * inverse_d;
    const T narrow = d >= fast::splat<T>(0.0f) ? ed * inverse_d : inverse_d;
    p = (d >= fast::splat<T>(0.0f) ? a : b) + fast::log1p_unit(ed);
    g = -2.0f * w * (wide * static_cast<float>(k.h1) + narrow * static_cast<float>(k.h2));
  } else {
    p = -static_cast<float>(k.h) * w2 - static_cast<float>(k.log_sigma);
    g = -2.0f * static_cast<float>(k.h) * w;
  }
}

/// v = softplus(r)^2 and dv/dr = 2 softplus(r) sigmoid(r) over n floats.
ELBO_VECTOR_CLONES void softplus_squared(const float* r, float* v, float* dv, int64_t n) {
  const auto one = [](auto x, auto& variance, auto& derivative) {
    using T = decltype(x);
    const T ex = fast::exp_nonpositive(-fast::abs(x)), inverse = 1.0f / (1.0f + ex);
    const T s = fast::relu(x) + fast::log1p_unit(ex);
    variance = s * s;
    derivative = 2.0f * s * (x >= fast::splat<T>(0.0f) ? inverse : ex * inverse);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    fast::Vec a, b;
    one(fast::load(r + i), a, b);
    fast::store(v + i, a), fast::store(dv + i, b);
  }
  for (; i < n; ++i) one(r[i], v[i], dv[i]);
}

/// weight_densities over [0, n) of float arrays: sums of q and p (in double per block of 256).
ELBO_VECTOR_CLONES void weight_densities(const float* m, const float* r, const float* e, float* g, float* dq, float* ds,
                                         int64_t n, const PriorConstants& k, double& sum_q, double& sum_p) {
  double tq = 0, tp = 0;
  int64_t i = 0;
  while (i + 8 <= n) {
    fast::Vec vq{}, vp{};
    for (const int64_t block = std::min(n, i + 256); i + 8 <= block; i += 8) {
      fast::Vec q, p, vg, vdq, vds;
      weight_densities(fast::load(m + i), fast::load(r + i), fast::load(e + i), k, q, p, vg, vdq, vds);
      fast::store(g + i, vg), fast::store(dq + i, vdq), fast::store(ds + i, vds);
      vq += q, vp += p;
    }
    tq += fast::sum(vq), tp += fast::sum(vp);
  }
  for (; i < n; ++i) {
    float q, p;
    weight_densities(m[i], r[i], e[i], k, q, p, g[i], dq[i], ds[i]);
    tq += q, tp += p;
  }
  sum_q = tq, sum_p = tp;
}

/// The same in double with the C library's functions (gradient checks, float64 models).
void weight_densities(const double* m, const double* r, const double* e, double* g, double* dq, double* ds, int64_t n,
                      const PriorConstants& k, double& sum_q, double& sum_p) {
  double tq = 0, tp = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double s = r[i] > 20 ? r[i] : std::log1p(std::exp(r[i])), sigmoid = 1 / (1 + std::exp(-r[i]));
    const double w = m[i] + s * e[i];
    tq += -0.5 * e[i] * e[i] - std::log(s);
    dq[i] = -sigmoid / s;
    ds[i] = e[i] * sigmoid;
    if (k.mixture) {
      const double a = k.a0 - k.h1 * w * w, b = k.b0 - k.h2 * w * w, top = std::max(a, b);
      const double lse = top + std::log(std::exp(a - top) + std::exp(b - top));
      tp += lse;
      g[i] = -2 * w * (std::exp(a - lse) * k.h1 + std::exp(b - lse) * k.h2);
    } else {
      tp += -k.h * w * w - k.log_sigma;
      g[i] = -2 * k.h * w;
    }
  }
  sum_q = tq, sum_p = tp;
}

/// log q(w) and log p(w) summed over one weight tensor at w = loc + softplus(rho) eps, in one
/// pass over its elements that also keeps what the backward pass needs (the tensor expression
/// takes some twenty passes over every weight, forward and backward, each step).
struct LogDensities : torch::autograd::Function<LogDensities> {
  static variable_list forward(AutogradContext* ctx, const Tensor& loc, const Tensor& rho, const Tensor& eps,
                               const WeightPrior& prior) {
    const int64_t n = loc.numel(), chunks = std::clamp<int64_t>(n / 16384, 1, 64);
    const PriorConstants k(prior);
    Tensor g = torch::empty_like(loc), dq = torch::empty_like(loc), ds = torch::empty_like(loc);
    std::vector<double> sum_q(chunks), sum_p(chunks);
    AT_DISPATCH_FLOATING_TYPES(loc.scalar_type(), "elbo::nn::LogDensities", [&] {
      for_chunks(n, chunks, [&](int64_t c, int64_t begin, int64_t end) {
        weight_densities(loc.data_ptr<scalar_t>() + begin, rho.data_ptr<scalar_t>() + begin,
                         eps.data_ptr<scalar_t>() + begin, g.data_ptr<scalar_t>() + begin,
                         dq.data_ptr<scalar_t>() + begin, ds.data_ptr<scalar_t>() + begin, end - begin, k, sum_q[c],
                         sum_p[c]);
      });
    });
    double q = 0, p = 0;
    for (int64_t c = 0; c < chunks; ++c) q += sum_q[c], p += sum_p[c];
    const double constant = kHalfLog2Pi * static_cast<double>(n);
    ctx->save_for_backward({g, dq, ds});
    return {torch::full({1}, q - constant, loc.options()), torch::full({1}, p - constant, loc.options())};
  }

  /// d/dloc = go_p g; d/drho = go_q dq + go_p g ds.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &g = saved[0], &dq = saved[1], &ds = saved[2];
    const double go_q = grads[0].defined() ? grads[0].item<double>() : 0.0;
    const double go_p = grads[1].defined() ? grads[1].item<double>() : 0.0;
    return {g * go_p, torch::addcmul(dq * go_q, g, ds, go_p), Tensor(), Tensor()};
  }
};

/// softplus(rho)^2 and its derivative 2 s sigmoid(rho), one float pass (other types: tensor expressions).
struct SoftplusSquared : torch::autograd::Function<SoftplusSquared> {
  static Tensor forward(AutogradContext* ctx, const Tensor& rho) {
    if (rho.scalar_type() != torch::kFloat || !rho.is_contiguous() || !rho.device().is_cpu()) {
      const Tensor s = torch::softplus(rho);
      ctx->save_for_backward({2 * s * torch::sigmoid(rho)});
      return s.square();
    }
    Tensor variance = torch::empty_like(rho), derivative = torch::empty_like(rho);
    softplus_squared(rho.data_ptr<float>(), variance.data_ptr<float>(), derivative.data_ptr<float>(), rho.numel());
    ctx->save_for_backward({derivative});
    return variance;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {grads[0] * ctx->get_saved_variables()[0]};
  }
};

}  // namespace

torch::Tensor GaussianWeights::scale() const { return torch::softplus(rho); }

torch::Tensor GaussianWeights::variance() const { return SoftplusSquared::apply(rho); }

torch::Tensor GaussianWeights::sample(int64_t k) const {
  std::vector<int64_t> shape{k};
  shape.insert(shape.end(), loc.sizes().begin(), loc.sizes().end());
  return loc + scale() * torch::randn(shape, loc.options());
}

WeightCost weight_cost(const std::vector<GaussianWeights>& weights, const WeightPrior& prior) {
  WeightCost c;
  auto add = [](Tensor& total, const Tensor& t) { total = total.defined() ? total + t : t; };
  for (const auto& q : weights) {
    if (prior.has_closed_form_kl()) add(c.kl, prior.kl(q.loc, q.scale()));
    const Tensor eps = torch::randn_like(q.loc);
    if (q.loc.device().is_cpu() && q.loc.is_contiguous() && q.rho.is_contiguous()) {
      const variable_list lq_lp = LogDensities::apply(q.loc, q.rho, eps, prior);
      add(c.log_q, lq_lp[0]);
      add(c.log_p, lq_lp[1]);
    } else {  // the same densities as tensor expressions (GPU): log q(w) = sum(-eps^2 / 2 - log s) - n log(2 pi) / 2
      const Tensor s = q.scale();
      add(c.log_q, ((-0.5 * eps.square() - s.log()).sum() - kHalfLog2Pi * static_cast<double>(eps.numel())).reshape({1}));
      add(c.log_p, prior.log_prob(q.loc + s * eps).sum().reshape({1}));
    }
  }
  ELBO_CHECK(c.log_q.defined(), "elbo::nn::weight_cost: no weights");
  return c;
}

double rho_of_scale(double scale) {
  ELBO_CHECK(scale > 0, "elbo::nn: a weight scale must be positive (got ", scale, ")");
  return scale > 30 ? scale : std::log(std::expm1(scale));
}

}  // namespace elbo::nn
