#include "elbo/nn/gaussian_weights.h"

#include "elbo/core/check.h"
#include "elbo/core/counter_normal.h"
#include "elbo/core/fast_math.h"
#include "elbo/core/math_constants.h"
#include "elbo/core/worker_threads.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>

namespace elbo::nn {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

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

/// The noise of one draw: its key, and the first index of the range a pass covers.
struct Noise {
  NormalKey key;
  int64_t first = 0;
};

/// Draws w = m + s e over [0, n) of float arrays, e from `noise` (core/counter_normal.h), with the
/// sums of log q and log p (in double per block of 256).
ELBO_VECTOR_CLONES void draw_float(const float* m, const float* r, Noise noise, float* w, int64_t n,
                                   const PriorConstants& k, double& sum_q, double& sum_p) {
  const auto index = [&](int64_t i) { return static_cast<uint32_t>(noise.first + i); };
  double tq = 0, tp = 0;
  int64_t i = 0;
  while (i + 8 <= n) {
    fast::Vec vq{}, vp{};
    for (const int64_t block = std::min(n, i + 256); i + 8 <= block; i += 8) {
      fast::Vec vw, q, p, g, dq, ds;
      weight_densities(fast::load(m + i), fast::load(r + i), fast::standard_normal8(noise.key, index(i)), k, vw, q, p, g,
                       dq, ds);
      fast::store(w + i, vw);
      vq += q, vp += p;
    }
    tq += fast::sum(vq), tp += fast::sum(vp);
  }
  for (; i < n; ++i) {
    float q, p, g, dq, ds;
    weight_densities(m[i], r[i], fast::standard_normal(noise.key, index(i)), k, w[i], q, p, g, dq, ds);
    tq += q, tp += p;
  }
  sum_q = tq, sum_p = tp;
}

/// The backward pass of draw_float over [0, n), the draw remade from the key: with
/// a = dL/dw + (dL/dlog p) dlog p/dw, dL/dm = a and dL/dr = sigmoid(r) e a + (dL/dlog q) dlog q/dr,
/// written to (or, with `accumulate`, added to) grad_m and grad_r. dL/dw may be null (zero).
ELBO_VECTOR_CLONES void draw_backward_float(const float* m, const float* r, Noise noise, const float* grad_w,
                                            float grad_q, float grad_p, float* grad_m, float* grad_r, int64_t n,
                                            const PriorConstants& k, bool accumulate) {
  const auto index = [&](int64_t i) { return static_cast<uint32_t>(noise.first + i); };
  const auto one = [&](auto vm, auto vr, auto e, auto gw, auto& gm, auto& gr) {
    decltype(vm) w, q, p, g, dq, ds;
    weight_densities(vm, vr, e, k, w, q, p, g, dq, ds);
    const auto a = gw + grad_p * g;
    gm = a;
    gr = ds * e * a + grad_q * dq;
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    fast::Vec gm, gr;
    one(fast::load(m + i), fast::load(r + i), fast::standard_normal8(noise.key, index(i)),
        grad_w ? fast::load(grad_w + i) : fast::Vec{}, gm, gr);
    if (accumulate) gm += fast::load(grad_m + i), gr += fast::load(grad_r + i);
    fast::store(grad_m + i, gm), fast::store(grad_r + i, gr);
  }
  for (; i < n; ++i) {
    float gm, gr;
    one(m[i], r[i], fast::standard_normal(noise.key, index(i)), grad_w ? grad_w[i] : 0.0f, gm, gr);
    grad_m[i] = accumulate ? grad_m[i] + gm : gm;
    grad_r[i] = accumulate ? grad_r[i] + gr : gr;
  }
}

/// One weight in double with the C library's functions (gradient checks, float64 models), the
/// noise e made in float as draw_float makes it: w, log q and log p up to -log(2 pi) / 2, and
/// dlog p/dw, dlog q/dr and sigmoid(r).
void weight_densities(double m, double r, double e, const PriorConstants& k, double& w, double& q, double& p,
                      double& g, double& dq, double& ds) {
  const double s = r > 20 ? r : std::log1p(std::exp(r)), sigmoid = 1 / (1 + std::exp(-r));
  w = m + s * e;
  q = -0.5 * e * e - std::log(s);
  dq = -sigmoid / s;
  ds = sigmoid;
  if (k.mixture) {
    const double a = k.a0 - k.h1 * w * w, b = k.b0 - k.h2 * w * w, top = std::max(a, b);
    p = top + std::log(std::exp(a - top) + std::exp(b - top));
    g = -2 * w * (std::exp(a - p) * k.h1 + std::exp(b - p) * k.h2);
  } else {
    p = -k.h * w * w - k.log_sigma;
    g = -2 * k.h * w;
  }
}

/// Splits [0, n) of a tensor into fixed chunks (so sums are the same for any number of threads)
/// and runs f(chunk, begin, end) for each on the kernel team.
template <typename F>
void for_chunks(int64_t n, int64_t chunks, F&& f) {
  const int64_t size = (n + chunks - 1) / chunks;
  WorkerThreads& team = kernel_team();
  team.run([&](int part) {
    const auto [first, last] = part_range(chunks, part, team.size());
    for (int64_t c = first; c < last; ++c) f(c, c * size, std::min(n, (c + 1) * size));
  });
}

int64_t chunks_of(int64_t n) { return std::clamp<int64_t>(n / 16384, 1, 64); }

/// k draws of one weight tensor with their log densities (draw_weights): loc, rho [n...]; the
/// noise of draw d is key.for_draw(d). Saves nothing per draw: the backward pass remakes it.
struct WeightDraws : torch::autograd::Function<WeightDraws> {
  static variable_list forward(AutogradContext* ctx, const Tensor& loc, const Tensor& rho, NormalKey key,
                               int64_t draws, const WeightPrior& prior) {
    const int64_t n = loc.numel(), chunks = chunks_of(n);
    const PriorConstants k(prior);
    std::vector<int64_t> shape{draws};
    shape.insert(shape.end(), loc.sizes().begin(), loc.sizes().end());
    Tensor w = torch::empty(shape, loc.options());
    std::vector<double> sum_q(draws * chunks), sum_p(draws * chunks);
    for (int64_t d = 0; d < draws; ++d) {
      const NormalKey kd = key.for_draw(d);
      if (loc.scalar_type() == torch::kFloat) {
        for_chunks(n, chunks, [&](int64_t c, int64_t begin, int64_t end) {
          draw_float(loc.data_ptr<float>() + begin, rho.data_ptr<float>() + begin, {kd, begin},
                     w.data_ptr<float>() + d * n + begin, end - begin, k, sum_q[d * chunks + c], sum_p[d * chunks + c]);
        });
      } else {  // double
        const double *m = loc.data_ptr<double>(), *r = rho.data_ptr<double>();
        double* wd = w.data_ptr<double>() + d * n;
        for (int64_t i = 0; i < n; ++i) {
          double q, p, g, dq, ds;
          weight_densities(m[i], r[i], fast::standard_normal(kd, static_cast<uint32_t>(i)), k, wd[i], q, p, g, dq, ds);
          sum_q[d * chunks] += q, sum_p[d * chunks] += p;
        }
      }
    }
    std::vector<double> q(draws, -kHalfLog2Pi * static_cast<double>(n)), p = q;
    for (int64_t d = 0; d < draws; ++d)
      for (int64_t c = 0; c < chunks; ++c) q[d] += sum_q[d * chunks + c], p[d] += sum_p[d * chunks + c];
    ctx->save_for_backward({loc, rho});
    ctx->saved_data["k0"] = static_cast<int64_t>(key.k0);
    ctx->saved_data["k1"] = static_cast<int64_t>(key.k1);
    ctx->saved_data["draws"] = draws;
    ctx->saved_data["prior"] = torch::IValue(std::vector<double>{prior.pi, prior.sigma, prior.sigma1, prior.sigma2,
                                                                 prior.kind == WeightPrior::Kind::mixture ? 1.0 : 0.0});
    const auto options = loc.options().dtype(torch::kDouble);
    return {w, torch::tensor(q, options).to(loc.scalar_type()), torch::tensor(p, options).to(loc.scalar_type())};
  }

  /// With a = dL/dw + (dL/dlog p) g per draw: d/dloc = sum_k a_k;
  /// d/drho = sigmoid(rho) sum_k eps_k a_k + (d log q / drho) sum_k dL/dlog q_k.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &loc = saved[0], &rho = saved[1];
    const NormalKey key{static_cast<uint32_t>(ctx->saved_data["k0"].toInt()),
                        static_cast<uint32_t>(ctx->saved_data["k1"].toInt())};
    const std::vector<double> constants = ctx->saved_data["prior"].toDoubleVector();
    WeightPrior prior;
    prior.pi = constants[0], prior.sigma = constants[1], prior.sigma1 = constants[2], prior.sigma2 = constants[3];
    prior.kind = constants[4] > 0 ? WeightPrior::Kind::mixture : WeightPrior::Kind::gaussian;
    const PriorConstants k(prior);
    const int64_t n = loc.numel(), draws = ctx->saved_data["draws"].toInt(), chunks = chunks_of(n);
    const Tensor grad_w = grads[0].defined() ? grads[0].to(loc.scalar_type()).contiguous() : Tensor();
    const auto per_draw = [&](const Tensor& g) {
      return g.defined() ? g.to(torch::kDouble).contiguous() : torch::zeros({draws}, torch::kDouble);
    };
    const Tensor grad_q = per_draw(grads[1]), grad_p = per_draw(grads[2]);
    Tensor grad_loc = torch::empty_like(loc), grad_rho = torch::empty_like(rho);
    for (int64_t d = 0; d < draws; ++d) {
      const NormalKey kd = key.for_draw(d);
      const double gq = grad_q.data_ptr<double>()[d], gp = grad_p.data_ptr<double>()[d];
      if (loc.scalar_type() == torch::kFloat) {
        const float* gw = grad_w.defined() ? grad_w.data_ptr<float>() + d * n : nullptr;
        for_chunks(n, chunks, [&](int64_t, int64_t begin, int64_t end) {
          draw_backward_float(loc.data_ptr<float>() + begin, rho.data_ptr<float>() + begin, {kd, begin},
                              gw ? gw + begin : nullptr, static_cast<float>(gq), static_cast<float>(gp),
                              grad_loc.data_ptr<float>() + begin, grad_rho.data_ptr<float>() + begin, end - begin, k, d > 0);
        });
      } else {  // double
        const double *m = loc.data_ptr<double>(), *r = rho.data_ptr<double>();
        const double* gw = grad_w.defined() ? grad_w.data_ptr<double>() + d * n : nullptr;
        double *gm = grad_loc.data_ptr<double>(), *gr = grad_rho.data_ptr<double>();
        for (int64_t i = 0; i < n; ++i) {
          double w, q, p, g, dq, ds;
          const double e = fast::standard_normal(kd, static_cast<uint32_t>(i));
          weight_densities(m[i], r[i], e, k, w, q, p, g, dq, ds);
          const double a = (gw ? gw[i] : 0.0) + gp * g, dr = ds * e * a + gq * dq;
          gm[i] = d > 0 ? gm[i] + a : a;
          gr[i] = d > 0 ? gr[i] + dr : dr;
        }
      }
    }
    return {grad_loc, grad_rho, Tensor(), Tensor(), Tensor()};
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
  const auto type = q.loc.scalar_type();
  if (q.loc.device().is_cpu() && q.loc.is_contiguous() && q.rho.is_contiguous() &&
      (type == torch::kFloat || type == torch::kDouble) && q.rho.scalar_type() == type) {
    ELBO_CHECK(q.loc.numel() <= (int64_t{1} << 32), "elbo::nn::draw_weights: at most 2^32 weights per tensor (got ",
               q.loc.numel(), ")");
    const variable_list out = WeightDraws::apply(q.loc, q.rho, NormalKey::draw(), k, prior);
    return {out[0], out[1], out[2]};
  }
  // The same as tensor expressions (GPU): log q(w) = sum(-eps^2 / 2 - log s) - n log(2 pi) / 2.
  std::vector<int64_t> shape{k};
  shape.insert(shape.end(), q.loc.sizes().begin(), q.loc.sizes().end());
  const Tensor eps = torch::randn(shape, q.loc.options());
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
