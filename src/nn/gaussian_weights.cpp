#include "elbo/nn/gaussian_weights.h"

#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"
#include "elbo/core/math_constants.h"

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
/// g = d log p / dw, dq = d log q / dr = -sigmoid(r) / s and sigmoid(r) = ds / dr. Float math
/// from core/fast_math.h (one e^-|r|, one e^-|d| for the mixture's two components d apart).
template <class T>
ELBO_FAST_INLINE void weight_densities(T m, T r, T e, const PriorConstants& k, T& w, T& q, T& p, T& g, T& dq,
                                       T& ds) {
  const T ex = fast::exp_nonpositive(-fast::abs(r));
  const T s = fast::relu(r) + fast::log1p_unit(ex);
  const T inverse = 1.0f / (1.0f + ex);
  const T sigmoid = r >= fast::splat<T>(0.0f) ? inverse : ex * inverse;
  w = m + s * e;
  const T w2 = w * w;
  q = -0.5f * e * e - fast::log_positive(s);
  dq = -sigmoid / s;
  ds = sigmoid;
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
ELBO_VECTOR_CLONES void weight_densities(const float* m, const float* r, const float* e, float* w, float* g, float* dq,
                                         float* ds, int64_t n, const PriorConstants& k, double& sum_q, double& sum_p) {
  double tq = 0, tp = 0;
  int64_t i = 0;
  while (i + 8 <= n) {
    fast::Vec vq{}, vp{};
    for (const int64_t block = std::min(n, i + 256); i + 8 <= block; i += 8) {
      fast::Vec vw, q, p, vg, vdq, vds;
      weight_densities(fast::load(m + i), fast::load(r + i), fast::load(e + i), k, vw, q, p, vg, vdq, vds);
      fast::store(w + i, vw), fast::store(g + i, vg), fast::store(dq + i, vdq), fast::store(ds + i, vds);
      vq += q, vp += p;
    }
    tq += fast::sum(vq), tp += fast::sum(vp);
  }
  for (; i < n; ++i) {
    float q, p;
    weight_densities(m[i], r[i], e[i], k, w[i], q, p, g[i], dq[i], ds[i]);
    tq += q, tp += p;
  }
  sum_q = tq, sum_p = tp;
}

/// The same in double with the C library's functions (gradient checks, float64 models).
void weight_densities(const double* m, const double* r, const double* e, double* wout, double* g, double* dq,
                      double* ds, int64_t n, const PriorConstants& k, double& sum_q, double& sum_p) {
  double tq = 0, tp = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double s = r[i] > 20 ? r[i] : std::log1p(std::exp(r[i])), sigmoid = 1 / (1 + std::exp(-r[i]));
    const double w = wout[i] = m[i] + s * e[i];
    tq += -0.5 * e[i] * e[i] - std::log(s);
    dq[i] = -sigmoid / s;
    ds[i] = sigmoid;
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

/// k draws of one weight tensor with their log densities (draw_weights): loc, rho [n...], eps [k, n...].
struct WeightDraws : torch::autograd::Function<WeightDraws> {
  static variable_list forward(AutogradContext* ctx, const Tensor& loc, const Tensor& rho, const Tensor& eps,
                               const WeightPrior& prior) {
    const int64_t draws = eps.size(0), n = loc.numel(), chunks = std::clamp<int64_t>(n / 16384, 1, 64);
    const PriorConstants k(prior);
    Tensor w = torch::empty_like(eps), g = torch::empty_like(eps), dq = torch::empty_like(loc), ds = torch::empty_like(loc);
    std::vector<double> sum_q(draws * chunks), sum_p(draws * chunks);
    AT_DISPATCH_FLOATING_TYPES(loc.scalar_type(), "elbo::nn::WeightDraws", [&] {
      for (int64_t d = 0; d < draws; ++d)  // dq, ds depend on rho only: each draw writes the same values
        for_chunks(n, chunks, [&](int64_t c, int64_t begin, int64_t end) {
          const int64_t at = d * n + begin;
          weight_densities(loc.data_ptr<scalar_t>() + begin, rho.data_ptr<scalar_t>() + begin, eps.data_ptr<scalar_t>() + at,
                           w.data_ptr<scalar_t>() + at, g.data_ptr<scalar_t>() + at, dq.data_ptr<scalar_t>() + begin,
                           ds.data_ptr<scalar_t>() + begin, end - begin, k, sum_q[d * chunks + c], sum_p[d * chunks + c]);
        });
    });
    std::vector<double> q(draws, -kHalfLog2Pi * static_cast<double>(n)), p = q;
    for (int64_t d = 0; d < draws; ++d)
      for (int64_t c = 0; c < chunks; ++c) q[d] += sum_q[d * chunks + c], p[d] += sum_p[d * chunks + c];
    ctx->save_for_backward({eps, g, dq, ds});
    const auto options = loc.options().dtype(torch::kDouble);
    return {w, torch::tensor(q, options).to(loc.scalar_type()), torch::tensor(p, options).to(loc.scalar_type())};
  }

  /// With a = dL/dw + (dL/dlog p) g per draw: d/dloc = sum_k a_k;
  /// d/drho = sigmoid(rho) sum_k eps_k a_k + (d log q / drho) sum_k dL/dlog q_k.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &eps = saved[0], &g = saved[1], &dq = saved[2], &ds = saved[3];
    const int64_t draws = eps.size(0);
    std::vector<int64_t> per_draw(eps.dim(), 1);
    per_draw[0] = draws;
    Tensor a = grads[0].defined() ? grads[0] : torch::zeros_like(g);
    if (grads[2].defined()) a = a + grads[2].view(per_draw) * g;
    Tensor grad_rho = ds * (eps * a).sum(0);
    if (grads[1].defined()) grad_rho = grad_rho + dq * grads[1].sum();
    return {a.sum(0), grad_rho, Tensor(), Tensor()};
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

WeightDraw draw_weights(const GaussianWeights& q, const WeightPrior& prior, int64_t k) {
  ELBO_CHECK(k >= 1, "elbo::nn::draw_weights: k must be >= 1 (got ", k, ")");
  std::vector<int64_t> shape{k};
  shape.insert(shape.end(), q.loc.sizes().begin(), q.loc.sizes().end());
  const Tensor eps = torch::randn(shape, q.loc.options());
  if (q.loc.device().is_cpu() && q.loc.is_contiguous() && q.rho.is_contiguous()) {
    const variable_list out = WeightDraws::apply(q.loc, q.rho, eps, prior);
    return {out[0], out[1], out[2]};
  }
  // The same as tensor expressions (GPU): log q(w) = sum(-eps^2 / 2 - log s) - n log(2 pi) / 2.
  const Tensor s = q.scale();
  const Tensor w = q.loc + s * eps;
  const auto n = static_cast<double>(q.loc.numel());
  return {w, (-0.5 * eps.square()).flatten(1).sum(1) - s.log().sum() - kHalfLog2Pi * n, prior.log_prob(w).flatten(1).sum(1)};
}

void WeightCost::add(const WeightDraw& draw) {
  log_q = log_q.defined() ? log_q + draw.log_q : draw.log_q;
  log_p = log_p.defined() ? log_p + draw.log_p : draw.log_p;
}

torch::Tensor closed_form_kl(const std::vector<GaussianWeights>& weights, const WeightPrior& prior) {
  if (!prior.has_closed_form_kl()) return {};
  Tensor kl;
  for (const auto& q : weights) kl = kl.defined() ? kl + prior.kl(q.loc, q.scale()) : prior.kl(q.loc, q.scale());
  return kl;
}

WeightCost weight_cost(const std::vector<GaussianWeights>& weights, const WeightPrior& prior) {
  ELBO_CHECK(!weights.empty(), "elbo::nn::weight_cost: no weights");
  WeightCost c;
  c.kl = closed_form_kl(weights, prior);
  for (const auto& q : weights) c.add(draw_weights(q, prior, 1));
  return c;
}

double rho_of_scale(double scale) {
  ELBO_CHECK(scale > 0, "elbo::nn: a weight scale must be positive (got ", scale, ")");
  return scale > 30 ? scale : std::log(std::expm1(scale));
}

}  // namespace elbo::nn
