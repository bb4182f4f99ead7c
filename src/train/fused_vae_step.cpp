#include "elbo/train/fused_vae_step.h"

#include "elbo/train/dense_rows.h"
#include "elbo/train/dense_weight_pass.h"
#include "elbo/train/fused_train_step.h"

#include "elbo/core/batch_shard.h"
#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"
#include "elbo/dist/bernoulli_kernel.h"
#include "elbo/dist/location_scale_kernel.h"
#include "elbo/dist/normal.h"
#include "elbo/nn/dense_kernels.h"
#include "elbo/nn/mlp.h"
#include "elbo/objective/elbo.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>

namespace elbo::train {

namespace {

/// Why a model's parameters or likelihood keep it off the fused step ("" when they do not).
std::string unsupported_parts(const torch::nn::Module& model, const std::string& likelihood) {
  if (!nn::have_sgemm()) return "elbo was built without a CBLAS library";
  if (likelihood != "bernoulli" && likelihood != "gaussian" && likelihood != "laplace")
    return "the likelihood is not Bernoulli, Gaussian or Laplace";
  for (const auto& p : model.parameters())
    if (p.scalar_type() != torch::kFloat || !p.device().is_cpu()) return "the parameters are not float32 on the CPU";
  return "";
}

}  // namespace

std::string FusedVaeStep::unsupported(const model::VaeImpl& model) {
  const auto& o = model.options();
  if (o.encoder != "mlp" || o.decoder != "mlp") return "the encoder and decoder are not both MLPs";
  if (o.activation != nn::Activation::relu) return "the activation is not ReLU";
  if (o.prior != "normal") return "the prior is not normal";
  if (o.classes > 0) return "the model is conditional";
  if (o.encoder_mask) return "the encoder reads the mask (model.encoder_mask)";
  return unsupported_parts(model, o.likelihood);
}

std::string FusedVaeStep::unsupported(const model::HierarchicalVaeImpl& model) {
  const auto& o = model.options();
  if (model.structured()) return "the posterior is structured (model.inference)";
  if (o.activation != nn::Activation::relu) return "the activation is not ReLU";
  if (o.encoder_mask) return "the encoder reads the mask (model.encoder_mask)";
  return unsupported_parts(model, o.likelihood);
}

FusedVaeStep::Net FusedVaeStep::add(const nn::MlpImpl& mlp, int input) {
  Net net{layers_.size(), layers_.size()};
  for (const auto& linear : mlp.layers()) {
    layers_.push_back({linear->weight, linear->bias, linear->weight.size(1), linear->weight.size(0)});
    inputs_.push_back(net.last == net.first ? input : kPrevious);
    ++net.last;
  }
  return net;
}

void FusedVaeStep::set_likelihood(const nn::Likelihood& head, const std::string& name) {
  if (name == "bernoulli") return;
  likelihood_ = name == "gaussian" ? Likelihood::gaussian : Likelihood::laplace;
  log_scale_ = head->log_scale();
}

FusedVaeStep::FusedVaeStep(model::VaeImpl& model, WorkerThreads* threads, bool monte_carlo_kl)
    : monte_carlo_kl_(monte_carlo_kl), threads_(threads) {
  const std::string why = unsupported(model);
  ELBO_CHECK(why.empty(), "elbo::train::FusedVaeStep: ", why);
  dims_ = {model.options().latent_dim};
  encoder_ = add(*model.encoder().ptr<nn::MlpImpl>(), kData);
  decoder_ = add(*model.decoder().ptr<nn::MlpImpl>(), 0);
  top_prior_log_scale_ = model.prior().log_scale();
  set_likelihood(model.likelihood_head(), model.options().likelihood);
  plan();
}

FusedVaeStep::FusedVaeStep(model::HierarchicalVaeImpl& model, WorkerThreads* threads, bool monte_carlo_kl)
    : monte_carlo_kl_(monte_carlo_kl), threads_(threads) {
  const std::string why = unsupported(model);
  ELBO_CHECK(why.empty(), "elbo::train::FusedVaeStep: ", why);
  dims_ = model.options().latent_dims;
  encoder_ = add(*model.encoder(), kData);
  decoder_ = add(*model.decoder(), 0);
  for (size_t l = 0; l < model.down().size(); ++l) down_.push_back(add(*model.down()[l], static_cast<int>(l + 1)));
  top_prior_log_scale_ = torch::zeros({dims_.back()});  // p(z_L) = N(0, I)
  set_likelihood(model.likelihood_head(), model.options().likelihood);
  plan();
}

void FusedVaeStep::plan() {
  for (const int64_t d : dims_) {
    offsets_.push_back(latent_);
    latent_ += d;
  }
  weight_pass_.emplace(layers_);
}

objective::Value FusedVaeStep::operator()(const torch::Tensor& x_tensor, const torch::Tensor& eps_tensor, double beta,
                                          torch::optim::Adam* optimizer) {
  const size_t n_layers = layers_.size(), n_latent = dims_.size();
  const size_t head_layer = encoder_.last - 1, logits_layer = decoder_.last - 1;
  const int64_t rows = x_tensor.size(0), features = layers_.front().in, latent = latent_;
  ELBO_CHECK(x_tensor.dim() == 2 && x_tensor.size(1) == features && x_tensor.scalar_type() == torch::kFloat &&
                 x_tensor.is_contiguous(),
             "elbo::train::FusedVaeStep: expected contiguous float32 data [B, ", features, "], got ", x_tensor.sizes());
  ELBO_CHECK(eps_tensor.sizes() == torch::IntArrayRef({rows, latent}) && eps_tensor.is_contiguous(),
             "elbo::train::FusedVaeStep: expected noise [", rows, ", ", latent, "], got ", eps_tensor.sizes());
  if (rows > rows_) {
    outputs_.clear();
    grads_.clear();
    for (size_t i = 0; i < n_layers; ++i) {
      outputs_.push_back(torch::empty({rows, layers_[i].out}));
      grads_.push_back(i == logits_layer ? torch::Tensor() : torch::empty({rows, layers_[i].out}));
    }
    z_ = torch::empty({rows, latent});
    grad_z_ = torch::empty({rows, latent});
    rows_ = rows;
  }
  const float* x = x_tensor.data_ptr<float>();
  const float* eps = eps_tensor.data_ptr<float>();
  const float* top_log_scale = top_prior_log_scale_.data_ptr<float>();
  std::vector<float*> out(n_layers), grad(n_layers);
  for (size_t i = 0; i < n_layers; ++i) {
    out[i] = outputs_[i].data_ptr<float>();
    // dloss/dlogits takes the logits' place (the likelihood reads each logit before it
    // writes its gradient): 400 KB less to keep in cache, one write stream fewer.
    grad[i] = i == logits_layer ? out[i] : grads_[i].data_ptr<float>();
  }
  float* z = z_.data_ptr<float>();
  float* grad_z = grad_z_.data_ptr<float>();
  torch::Tensor kl = torch::empty({rows}), reconstruction = torch::empty({rows});
  float* kl_rows = kl.data_ptr<float>();
  float* reconstruction_rows = reconstruction.data_ptr<float>();
  // The likelihood's learned log scales (gaussian, laplace): their gradient summed per thread.
  const bool learned_scale = log_scale_.defined() && log_scale_.requires_grad();
  const int64_t scales = log_scale_.defined() ? log_scale_.numel() : 0;
  // Adam's update of every weight and bias, in layer order, and of the log scales, when the
  // optimizer holds exactly them.
  std::vector<AdamUpdate> updates = DenseWeightPass::adam_updates(
      optimizer, layers_, learned_scale ? std::vector<torch::Tensor>{log_scale_} : std::vector<torch::Tensor>{});
  std::optional<AdamUpdate> scale_update;
  if (learned_scale && !updates.empty()) {
    scale_update = updates.back();
    updates.pop_back();
  }
  const int parts =
      threads_ ? static_cast<int>(std::clamp<int64_t>(rows / kMinRowsPerPart, 1, threads_->size())) : 1;
  // Per thread and layer, for the bound of the fused update below.
  std::vector<double> squared_output_grads(parts * n_layers), squared_input_parts(parts * n_layers);
  std::vector<double> scale_grad_parts(learned_scale ? parts * scales : 0, 0.0);
  const float inv_rows = 1.0f / static_cast<float>(rows);
  const float kl_weight = static_cast<float>(beta) * inv_rows;
  // The input of layer i from row r0, and its row stride.
  auto input_of = [&](size_t i, int64_t r0) -> const float* {
    const int source = inputs_[i];
    return source == kData ? x + r0 * features : source == kPrevious ? out[i - 1] + r0 * layers_[i].in
                                                                      : z + r0 * latent + offsets_[source];
  };
  auto input_stride = [&](size_t i) { return inputs_[i] >= 0 ? latent : layers_[i].in; };

  const DenseRows nets{layers_, out, grad};
  // Rows [r0, r1): forward, likelihood and KL, then dloss/d(output) of every layer by the chain rule.
  auto rows_pass = [&](int part, int64_t r0, int64_t r1) {
    const int64_t m = r1 - r0;
    if (m == 0) return;
    auto forward = [&](const Net& net) {
      nets.forward(net.first, net.last, input_of(net.first, r0), input_stride(net.first), r0, m);
    };
    // dloss/d(input of each layer of `net`), the first layer's into z's columns (`to_latent`) or nowhere.
    auto backward = [&](const Net& net, bool to_latent) {
      nets.backward(net.first, net.last,
                    to_latent ? grad_z + r0 * latent + offsets_[inputs_[net.first]] : nullptr, latent, r0, m);
    };
    // Encoder -> (mu, log sigma) of every layer -> z = mu + sigma eps; then each layer's prior.
    forward(encoder_);
    const float* raw = out[head_layer];  // [B, 2D]: mu, log sigma
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t d = 0; d < latent; ++d)
        z[r * latent + d] = raw[r * 2 * latent + d] +
                            std::exp(floored_log_scale(raw[r * 2 * latent + latent + d])) * eps[r * latent + d];
    for (const Net& net : down_) forward(net);
    // Layer l's KL term and its derivatives in q's (mu, log sigma), z_l and p's (a, log t).
    // Analytic: KL = log t - log sigma + (sigma^2 + (mu - a)^2) / (2 t^2) - 1/2.
    // Monte Carlo: log q(z) - log p(z) = log t - log sigma - eps^2 / 2 + (z - a)^2 / (2 t^2),
    // whose total derivative in mu is 0 and in log sigma -1 through q (z = mu + sigma eps),
    // leaving (z - a) / t^2 in z. p(z_L) = N(0, s^2); p(z_l | z_{l+1}) from down_[l]'s output,
    // whose gradient is written here: d/da = -(mu - a) / t^2 (or -(z - a) / t^2) and
    // d/dlog t = 1 - (sigma^2 + (mu - a)^2) / t^2 (or 1 - (z - a)^2 / t^2), times
    // dlog t/draw = 1 - t_min / t.
    enum class Pass { values, prior_gradients, latent_gradients };
    std::vector<double> kl_sum(m, 0.0);
    auto prior_terms = [&](size_t l, Pass pass) {
      const int64_t dl = dims_[l], off = offsets_[l];
      const bool top = l + 1 == n_latent;
      if (top && pass == Pass::prior_gradients) return;  // p(z_L) has no parameters
      const float* p_raw = top ? nullptr : out[down_[l].last - 1];
      float* p_grad = top ? nullptr : grad[down_[l].last - 1];
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t d = 0; d < dl; ++d) {
          const int64_t c = off + d;
          const float mu = raw[r * 2 * latent + c], log_sigma = floored_log_scale(raw[r * 2 * latent + latent + c]);
          const float a = top ? 0.0f : p_raw[r * 2 * dl + d];
          const float log_t = top ? top_log_scale[d] : floored_log_scale(p_raw[r * 2 * dl + dl + d]);
          const float inv_var = std::exp(-2.0f * log_t);
          const float diff = (monte_carlo_kl_ ? z[r * latent + c] : mu) - a;
          const float sigma = std::exp(log_sigma), e = eps[r * latent + c];
          const float spread = monte_carlo_kl_ ? diff * diff : sigma * sigma + diff * diff;
          if (pass == Pass::values)
            kl_sum[r - r0] += monte_carlo_kl_ ? log_t - log_sigma - 0.5f * e * e + 0.5f * spread * inv_var
                                              : log_t - log_sigma + 0.5f * spread * inv_var - 0.5f;
          else if (pass == Pass::latent_gradients)
            grad_z[r * latent + c] += kl_weight * diff * inv_var;
          else {
            p_grad[r * 2 * dl + d] = -kl_weight * diff * inv_var;
            p_grad[r * 2 * dl + dl + d] = kl_weight * (1.0f - spread * inv_var) *
                                          floored_log_scale_slope(std::exp(log_t));
          }
        }
    };
    for (size_t l = 0; l < n_latent; ++l) prior_terms(l, Pass::values);
    for (int64_t r = r0; r < r1; ++r) kl_rows[r] = static_cast<float>(kl_sum[r - r0]);
    forward(decoder_);
    // The likelihood, and dloss/d(decoder output): Bernoulli (sigmoid(l) - x) / B.
    if (likelihood_ == Likelihood::bernoulli)
      dist::bernoulli_log_prob_rows(x + r0 * features, m, out[logits_layer] + r0 * features, m, features,
                                    reconstruction_rows + r0, grad[logits_layer] + r0 * features, inv_rows);
    else
      dist::location_scale_log_prob_rows(likelihood_ == Likelihood::laplace, x + r0 * features,
                                         out[logits_layer] + r0 * features, m, features,
                                         log_scale_.data_ptr<float>(), scales == 1, reconstruction_rows + r0,
                                         grad[logits_layer] + r0 * features, inv_rows,
                                         learned_scale ? scale_grad_parts.data() + part * scales : nullptr);
    // dloss/dz: z_1's columns from the decoder, z_{l+1}'s through down_[l] from the gradient
    // of p(z_l | z_{l+1})'s parameters (each column written once), then the Monte Carlo terms'.
    backward(decoder_, true);
    for (size_t l = 0; l < n_latent; ++l) prior_terms(l, Pass::prior_gradients);
    for (const Net& net : down_) backward(net, true);
    if (monte_carlo_kl_)
      for (size_t l = 0; l < n_latent; ++l) prior_terms(l, Pass::latent_gradients);
    // Through z = mu + sigma eps and q's part of the KL term: d/dmu = dz + beta/B dKL/dmu,
    // d/dlog sigma = dz sigma eps + beta/B dKL/dlog sigma (analytic: (mu - a) / t^2 and
    // sigma^2 / t^2 - 1; Monte Carlo: 0 and -1), and dlog sigma/dr = 1 - sigma_min / sigma.
    float* head = grad[head_layer];
    for (size_t l = 0; l < n_latent; ++l) {
      const int64_t dl = dims_[l], off = offsets_[l];
      const bool top = l + 1 == n_latent;
      const float* p_raw = top ? nullptr : out[down_[l].last - 1];
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t d = 0; d < dl; ++d) {
          const int64_t c = off + d;
          const float mu = raw[r * 2 * latent + c];
          const float sigma = std::exp(floored_log_scale(raw[r * 2 * latent + latent + c]));
          const float dz = grad_z[r * latent + c];
          float d_mu = 0.0f, d_log_sigma = -1.0f;
          if (!monte_carlo_kl_) {
            const float a = top ? 0.0f : p_raw[r * 2 * dl + d];
            const float log_t = top ? top_log_scale[d] : floored_log_scale(p_raw[r * 2 * dl + dl + d]);
            const float inv_var = std::exp(-2.0f * log_t);
            d_mu = (mu - a) * inv_var;
            d_log_sigma = sigma * sigma * inv_var - 1.0f;
          }
          head[r * 2 * latent + c] = dz + kl_weight * d_mu;
          head[r * 2 * latent + latent + c] = (dz * sigma * eps[r * latent + c] + kl_weight * d_log_sigma) *
                                              floored_log_scale_slope(sigma);
        }
    }
    backward(encoder_, false);
    // ||G||^2 and ||A||^2 of these rows, for the finiteness bound of the fused update.
    if (!updates.empty())
      for (size_t i = 0; i < n_layers; ++i) {
        const DenseLayer& l = layers_[i];
        squared_output_grads[part * n_layers + i] = nn::squared_norm(grad[i] + r0 * l.out, m * l.out);
        double a2 = 0;  // the input's rows, which may be a strided block of z
        for (int64_t r = 0; r < m; ++r) a2 += nn::squared_norm(input_of(i, r0 + r), l.in);
        squared_input_parts[part * n_layers + i] = a2;
      }
  };

  // Each thread's BLAS calls stay on that thread, in the row passes and in the weight pass.
  const BlasThreadsScope single_threaded_blas(parts > 1 ? 1 : 0);
  // All rows first (the chain rule needs them in order), then the weight gradients, which need every row.
  run_row_blocks(threads_, parts, rows, rows_pass);
  // The loss -mean(log p(x|z)) + beta mean(KL), summed here in double (no tensor ops).
  metric_sums_ = sum_rows(reconstruction_rows, kl_rows, rows);
  const double loss = (beta * metric_sums_.kl - metric_sums_.reconstruction) / static_cast<double>(rows);
  std::vector<float> scale_grad(scales, 0.0f);  // the log scales' gradient, the threads' parts in order
  bool scale_grad_finite = true;
  for (int part = 0; part < parts && learned_scale; ++part)
    for (int64_t j = 0; j < scales; ++j) scale_grad[j] += static_cast<float>(scale_grad_parts[part * scales + j]);
  for (const float g : scale_grad) scale_grad_finite = scale_grad_finite && std::isfinite(g);

  // The fused update only when it cannot meet a non-finite value: a finite loss, and
  // gradients provably finite from the rows' norms.
  for (size_t i = 0; i < n_layers; ++i) {
    DenseLayer& d = layers_[i];
    d.grad = grad[i];
    d.grad_stride = d.out;
    d.input = input_of(i, 0);
    d.input_stride = input_stride(i);
    d.rows = rows;
  }
  updated_ = !updates.empty() && std::isfinite(loss) && scale_grad_finite &&
             DenseWeightPass::provably_finite(layers_, squared_output_grads, squared_input_parts);
  const double weight_squared_norm = weight_pass_->run(layers_, updated_ ? updates : std::vector<AdamUpdate>{}, threads_, parts);
  double scale_squared_norm = 0;
  if (learned_scale && updated_) {
    scale_squared_norm = scale_update->apply_clearing(scale_grad.data(), 0, scales);
    scale_update->count();
  } else if (learned_scale) {
    std::copy(scale_grad.begin(), scale_grad.end(), grad_data(log_scale_));
    scale_squared_norm = nn::squared_norm(scale_grad.data(), scales);
  }

  gradient_norm_ = std::sqrt(scale_squared_norm + weight_squared_norm);
  // The returned tensors are made here, after the team's last job, not while it waits.
  return step_value(beta, reconstruction, kl, loss);
}

std::unique_ptr<TrainStep> make_fused_vae_step(model::Model& model, const objective::Objective& objective,
                                               const data::Dataset& train, std::string& why) {
  auto* vae = dynamic_cast<model::VaeImpl*>(&model);
  auto* hierarchical = dynamic_cast<model::HierarchicalVaeImpl*>(&model);
  const auto* elbo = dynamic_cast<const objective::Elbo*>(&objective);
  if (!vae && !hierarchical) why = "the model is not model.type = vae, hvae, multimodal or m2";
  else if (!(why = vae ? FusedVaeStep::unsupported(*vae) : FusedVaeStep::unsupported(*hierarchical)).empty()) {}
  else if (!(why = objective_refusal(objective, true)).empty()) {}
  else if (elbo->options().classification_weight() > 0) why = "a classification term";
  else if (train.mask.defined()) why = "the data have missing entries";
  else if (!train.x.device().is_cpu()) why = "the data are not on the CPU";
  else if (vae) return std::make_unique<FusedTrainStep<FusedVaeStep>>(*vae, objective, !elbo->options().analytic_kl());
  else return std::make_unique<FusedTrainStep<FusedVaeStep>>(*hierarchical, objective, !elbo->options().analytic_kl());
  return nullptr;
}

}  // namespace elbo::train
