#include "elbo/train/fused_vae_step.h"

#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"
#include "elbo/dist/bernoulli_kernel.h"
#include "elbo/nn/mlp.h"

#include <cmath>

#if defined(ELBO_HAVE_CBLAS)
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);
#endif

namespace elbo::train {
namespace {

/// Row-major C[m, n] = A[m, k] op(B) with op(B) = B^T for B [n, k] (trans_b) or B [k, n];
/// A^T [k, m] stored when trans_a.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
#if defined(ELBO_HAVE_CBLAS)
  constexpr int row_major = 101, no_trans = 111, trans = 112;
  cblas_sgemm(row_major, trans_a ? trans : no_trans, trans_b ? trans : no_trans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(trans_a ? m : k), b,
              static_cast<int>(trans_b ? k : n), 0.0f, c, static_cast<int>(n));
#else
  (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)a, (void)b, (void)c;
  ELBO_CHECK(false, "elbo::train::FusedVaeStep: built without a BLAS");
#endif
}

/// h[r, j] = act(h[r, j] + bias[j]), act = ReLU or identity.
ELBO_VECTOR_CLONES void add_bias(float* h, const float* bias, int64_t rows, int64_t n, bool relu) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = h + r * n;
    if (relu)
      for (int64_t j = 0; j < n; ++j) {
        const float v = row[j] + bias[j];
        row[j] = v < 0 ? 0.0f : v;  // NaN stays NaN, as in ATen's relu
      }
    else
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

/// g = g where the ReLU output h > 0, else 0.
ELBO_VECTOR_CLONES void relu_backward(float* g, const float* h, int64_t count) {
  for (int64_t i = 0; i < count; ++i) g[i] = h[i] > 0 ? g[i] : 0.0f;
}

/// out[j] = sum_r g[r, j].
ELBO_VECTOR_CLONES void column_sums(const float* g, float* out, int64_t rows, int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = 0.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) out[j] += g[r * n + j];
}

float* grad_of(torch::Tensor& parameter) {
  if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
  return parameter.mutable_grad().data_ptr<float>();
}

}  // namespace

std::string FusedVaeStep::unsupported(const model::VaeImpl& model) {
#if !defined(ELBO_HAVE_CBLAS)
  return "elbo was built without a CBLAS library";
#endif
  const auto& o = model.options();
  if (o.encoder != "mlp" || o.decoder != "mlp") return "the encoder and decoder are not both MLPs";
  if (o.activation != nn::Activation::relu) return "the activation is not ReLU";
  if (o.likelihood != "bernoulli") return "the likelihood is not Bernoulli";
  if (o.prior != "normal") return "the prior is not normal";
  if (o.classes > 0) return "the model is conditional";
  for (const auto& p : model.parameters())
    if (p.scalar_type() != torch::kFloat || !p.device().is_cpu()) return "the parameters are not float32 on the CPU";
  return "";
}

FusedVaeStep::FusedVaeStep(model::VaeImpl& model) {
  const std::string why = unsupported(model);
  ELBO_CHECK(why.empty(), "elbo::train::FusedVaeStep: ", why);
  auto layers = [](const torch::nn::AnyModule& m) {
    std::vector<Layer> out;
    for (const auto& linear : m.ptr<nn::MlpImpl>()->layers())
      out.push_back({linear->weight, linear->bias, linear->weight.size(1), linear->weight.size(0)});
    return out;
  };
  encoder_ = layers(model.encoder());
  decoder_ = layers(model.decoder());
  prior_log_scale_ = model.prior().log_scale();
}

objective::Value FusedVaeStep::operator()(const torch::Tensor& x_tensor, const torch::Tensor& eps_tensor, double beta) {
  const int64_t rows = x_tensor.size(0), features = encoder_.front().in, latent = decoder_.front().in;
  ELBO_CHECK(x_tensor.dim() == 2 && x_tensor.size(1) == features && x_tensor.scalar_type() == torch::kFloat &&
                 x_tensor.is_contiguous(),
             "elbo::train::FusedVaeStep: expected contiguous float32 data [B, ", features, "], got ", x_tensor.sizes());
  ELBO_CHECK(eps_tensor.sizes() == torch::IntArrayRef({rows, latent}) && eps_tensor.is_contiguous(),
             "elbo::train::FusedVaeStep: expected noise [", rows, ", ", latent, "], got ", eps_tensor.sizes());
  if (rows > rows_) {
    int64_t widest = std::max(features, 2 * latent);
    activations_.clear();
    for (const auto* net : {&encoder_, &decoder_})
      for (const auto& layer : *net) {
        activations_.push_back(torch::empty({rows, layer.out}));
        widest = std::max(widest, layer.out);
      }
    z_ = torch::empty({rows, latent});
    grad_a_ = torch::empty({rows * widest});
    grad_b_ = torch::empty({rows * widest});
    rows_ = rows;
  }
  const float* x = x_tensor.data_ptr<float>();
  const float* eps = eps_tensor.data_ptr<float>();
  const float* prior_log_scale = prior_log_scale_.data_ptr<float>();
  const size_t n_enc = encoder_.size(), n_dec = decoder_.size();
  auto act = [&](size_t i) { return activations_[i].data_ptr<float>(); };

  // Forward: encoder -> (mu, log sigma) -> z = mu + sigma eps -> decoder -> logits.
  auto forward = [&](const std::vector<Layer>& net, const float* input, size_t first) {
    for (size_t i = 0; i < net.size(); ++i) {
      float* out = act(first + i);
      gemm(false, true, rows, net[i].out, net[i].in, input, net[i].weight.data_ptr<float>(), out);
      add_bias(out, net[i].bias.data_ptr<float>(), rows, net[i].out, i + 1 < net.size());
      input = out;
    }
  };
  forward(encoder_, x, 0);
  const float* raw = act(n_enc - 1);  // [B, 2D]: mu, log sigma
  float* z = z_.data_ptr<float>();
  torch::Tensor kl = torch::empty({rows}), reconstruction = torch::empty({rows});
  float* kl_rows = kl.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t d = 0; d < latent; ++d) {
      const float mu = raw[r * 2 * latent + d], log_sigma = raw[r * 2 * latent + latent + d];
      const float sigma = std::exp(log_sigma), inv_prior_var = std::exp(-2.0f * prior_log_scale[d]);
      z[r * latent + d] = mu + sigma * eps[r * latent + d];
      // KL(N(mu, sigma^2) || N(0, s^2)) = log s - log sigma + (sigma^2 + mu^2) / (2 s^2) - 1/2
      sum += prior_log_scale[d] - log_sigma + 0.5f * (sigma * sigma + mu * mu) * inv_prior_var - 0.5f;
    }
    kl_rows[r] = static_cast<float>(sum);
  }
  forward(decoder_, z, n_enc);

  // Likelihood and its gradient at the logits.
  const float inv_rows = 1.0f / static_cast<float>(rows);
  float* grad = grad_a_.data_ptr<float>();
  float* spare = grad_b_.data_ptr<float>();
  dist::bernoulli_log_prob_rows(x, rows, act(n_enc + n_dec - 1), rows, features, reconstruction.data_ptr<float>(), grad,
                                inv_rows);

  // Backward through a stack of layers: grad holds dloss/d(output of the last layer).
  auto backward = [&](std::vector<Layer>& net, const float* input, size_t first, bool input_grad) {
    for (size_t i = net.size(); i-- > 0;) {
      const float* in = i == 0 ? input : act(first + i - 1);
      gemm(true, false, net[i].out, net[i].in, rows, grad, in, grad_of(net[i].weight));
      column_sums(grad, grad_of(net[i].bias), rows, net[i].out);
      if (i == 0 && !input_grad) break;
      gemm(false, false, rows, net[i].in, net[i].out, grad, net[i].weight.data_ptr<float>(), spare);
      if (i > 0) relu_backward(spare, in, rows * net[i].in);
      std::swap(grad, spare);
    }
  };
  backward(decoder_, z, n_enc, true);  // grad = dloss/dz [B, D]

  // Through z = mu + sigma eps and the KL: d/dmu = dz + beta/B mu / s^2,
  // d/dlog sigma = dz sigma eps + beta/B (sigma^2 / s^2 - 1).
  const float kl_weight = static_cast<float>(beta) * inv_rows;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t d = 0; d < latent; ++d) {
      const float mu = raw[r * 2 * latent + d], sigma = std::exp(raw[r * 2 * latent + latent + d]);
      const float inv_prior_var = std::exp(-2.0f * prior_log_scale[d]), dz = grad[r * latent + d];
      spare[r * 2 * latent + d] = dz + kl_weight * mu * inv_prior_var;
      spare[r * 2 * latent + latent + d] = dz * sigma * eps[r * latent + d] + kl_weight * (sigma * sigma * inv_prior_var - 1.0f);
    }
  std::swap(grad, spare);
  backward(encoder_, x, 0, false);

  objective::Value v;
  v.beta = beta;
  v.reconstruction = reconstruction;
  v.kl = kl;
  v.bound = reconstruction - kl;
  v.loss = -reconstruction.mean() + beta * kl.mean();
  return v;
}

}  // namespace elbo::train
