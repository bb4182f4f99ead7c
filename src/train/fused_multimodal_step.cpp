#include "elbo/train/fused_multimodal_step.h"

#include "elbo/core/batch_shard.h"
#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"
#include "elbo/dist/bernoulli_kernel.h"
#include "elbo/nn/dense_kernels.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/dense_rows.h"
#include "elbo/train/fused_train_step.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace elbo::train {
namespace {


/// Per row of logits [rows, width, C] against classes x (row r: x[r mod x_rows]):
/// out[r] = sum_j log softmax(l_j)[x_j], and grad = (softmax(l_j) - onehot(x_j)) * grad_scale
/// written over the logits.
void categorical_log_prob_rows(const float* x, int64_t x_rows, int64_t x_stride, float* logits, int64_t rows,
                               int64_t width, int64_t classes, float* out, float grad_scale) {
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < width; ++j) {
      float* l = logits + (r * width + j) * classes;
      const auto label = static_cast<int64_t>(x[(r % x_rows) * x_stride + j]);
      const float log_total = log_sum_exp(l, classes);
      sum += l[label] - log_total;
      for (int64_t c = 0; c < classes; ++c) l[c] = (std::exp(l[c] - log_total) - (c == label ? 1.0f : 0.0f)) * grad_scale;
    }
    out[r] = static_cast<float>(sum);
  }
}

}  // namespace

std::string FusedMultimodalStep::unsupported(const model::MultimodalVaeImpl& model) {
  const auto& o = model.options();
  if (!nn::have_sgemm()) return "elbo was built without a CBLAS library";
  if (o.activation != nn::Activation::relu) return "the activation is not ReLU";
  if (o.encoder_mask) return "the experts read the mask (model.encoder_mask)";
  if (o.random_subsets > 0) return "objective.random_subsets > 0";
  for (const auto& m : o.modalities)
    if (m.likelihood != "bernoulli" && m.likelihood != "categorical")
      return "modality '" + m.name + "' is not Bernoulli or categorical";
  for (const auto& p : model.parameters())
    if (p.scalar_type() != torch::kFloat || !p.device().is_cpu()) return "the parameters are not float32 on the CPU";
  return "";
}

FusedMultimodalStep::FusedMultimodalStep(model::MultimodalVaeImpl& model, WorkerThreads* threads)
    : prior_log_scale_(model.prior_log_scale()), latent_(model.latent_dim()), features_(model.features()),
      threads_(threads) {
  const std::string why = unsupported(model);
  ELBO_CHECK(why.empty(), "elbo::train::FusedMultimodalStep: ", why);
  const auto& o = model.options();
  const size_t n = o.modalities.size();
  // The training rows' subsets, as MultimodalVae::training_subsets makes them for rows having
  // every modality: all of them, then (with subsets, when there are several) each alone.
  subsets_.push_back(std::vector<bool>(n, true));
  if (o.subsets && n > 1)
    for (size_t i = 0; i < n; ++i) {
      subsets_.push_back(std::vector<bool>(n, false));
      subsets_.back()[i] = true;
    }
  auto add = [&](const nn::Mlp& mlp, size_t& first, size_t& last) {
    first = layers_.size();
    for (const auto& linear : mlp->layers())
      layers_.push_back({linear->weight, linear->bias, linear->weight.size(1), linear->weight.size(0)});
    last = layers_.size();
  };
  for (size_t i = 0; i < n; ++i) {
    const auto& m = o.modalities[i];
    Modality mod;
    mod.begin = m.begin;
    mod.width = m.width;
    mod.categories = m.likelihood == "categorical" ? m.categories : 0;
    add(model.expert_nets()[i], mod.expert_first, mod.expert_last);
    for (size_t s = 0; s < subsets_.size(); ++s)
      if (o.subsets_score_present || subsets_[s][i]) mod.scored.push_back(s);
    modalities_.push_back(mod);
  }
  for (size_t i = 0; i < n; ++i) add(model.decoder_nets()[i], modalities_[i].decoder_first, modalities_[i].decoder_last);
  weight_pass_.emplace(layers_);
}

objective::Value FusedMultimodalStep::operator()(const torch::Tensor& x_tensor, const torch::Tensor& eps_tensor,
                                                 double beta, torch::optim::Adam* optimizer) {
  const int64_t rows = x_tensor.size(0), latent = latent_, n_subsets = static_cast<int64_t>(subsets_.size());
  const int64_t total = rows * n_subsets;  // R
  const size_t n_layers = layers_.size(), n_mod = modalities_.size();
  ELBO_CHECK(x_tensor.dim() == 2 && x_tensor.size(1) == features_ && x_tensor.scalar_type() == torch::kFloat &&
                 x_tensor.is_contiguous(),
             "elbo::train::FusedMultimodalStep: expected contiguous float32 data [B, ", features_, "], got ",
             x_tensor.sizes());
  ELBO_CHECK(eps_tensor.sizes() == torch::IntArrayRef({total, latent}) && eps_tensor.is_contiguous(),
             "elbo::train::FusedMultimodalStep: expected noise [", total, ", ", latent, "], got ", eps_tensor.sizes());
  // Rows of each layer's buffers: its batch rows (experts) or its decoder's training rows.
  std::vector<int64_t> layer_rows(n_layers);
  for (const Modality& m : modalities_) {
    for (size_t i = m.expert_first; i < m.expert_last; ++i) layer_rows[i] = rows;
    for (size_t i = m.decoder_first; i < m.decoder_last; ++i)
      layer_rows[i] = rows * static_cast<int64_t>(m.scored.size());
  }
  if (rows > rows_) {
    inputs_.clear(), outputs_.clear(), grads_.clear(), codes_.clear(), code_grads_.clear(), scores_.clear();
    log_precisions_.clear();
    for (const Modality& m : modalities_) {
      log_precisions_.push_back(torch::empty({rows, latent}));
      inputs_.push_back(torch::empty({rows, m.expert_inputs()}));
      codes_.push_back(torch::empty({rows * static_cast<int64_t>(m.scored.size()), latent}));
      code_grads_.push_back(torch::empty({rows * static_cast<int64_t>(m.scored.size()), latent}));
      scores_.push_back(torch::empty({rows * static_cast<int64_t>(m.scored.size())}));
    }
    for (size_t i = 0; i < n_layers; ++i) {
      outputs_.push_back(torch::empty({layer_rows[i], layers_[i].out}));
      grads_.push_back(torch::empty({layer_rows[i], layers_[i].out}));
    }
    for (torch::Tensor* t : {&z_, &mean_, &log_sigma_, &grad_z_}) *t = torch::empty({total, latent});
    rows_ = rows;
  }
  const float* x = x_tensor.data_ptr<float>();
  const float* eps = eps_tensor.data_ptr<float>();
  const float* prior_log_scale = prior_log_scale_.data_ptr<float>();
  std::vector<float*> out(n_layers), grad(n_layers);
  for (size_t i = 0; i < n_layers; ++i) out[i] = outputs_[i].data_ptr<float>(), grad[i] = grads_[i].data_ptr<float>();
  for (const Modality& m : modalities_) grad[m.decoder_last - 1] = out[m.decoder_last - 1];  // written over the logits
  float *z = z_.data_ptr<float>(), *mean = mean_.data_ptr<float>(), *log_sigma = log_sigma_.data_ptr<float>();
  float* grad_z = grad_z_.data_ptr<float>();
  torch::Tensor kl = torch::empty({total}), reconstruction = torch::empty({total});
  float *kl_rows = kl.data_ptr<float>(), *reconstruction_rows = reconstruction.data_ptr<float>();
  std::vector<AdamUpdate> updates = DenseWeightPass::adam_updates(optimizer, layers_);
  const int parts =
      threads_ ? static_cast<int>(std::clamp<int64_t>(rows / kMinRowsPerPart, 1, threads_->size())) : 1;
  std::vector<double> squared_grad_parts(parts * n_layers, 0.0), squared_input_parts(parts * n_layers, 0.0);
  const float inv_rows = 1.0f / static_cast<float>(total);
  const float kl_weight = static_cast<float>(beta) * inv_rows;
  const DenseRows nets{layers_, out, grad};
  // Head of modality i's expert: mu [B, D] then raw log sigma, in its last layer's output.
  auto head = [&](size_t i) { return out[modalities_[i].expert_last - 1]; };

  // Layer j's ||G||^2 and ||A||^2 over its rows [r0, r0 + m) (A: `input`, its whole buffer).
  auto squared_norms = [&](int part, size_t j, int64_t r0, int64_t m, const float* input) {
    const DenseLayer& l = layers_[j];
    squared_grad_parts[part * n_layers + j] = nn::squared_norm(grad[j] + r0 * l.out, m * l.out);
    squared_input_parts[part * n_layers + j] = nn::squared_norm(input + r0 * l.in, m * l.in);
  };
  // Batch rows [r0, r1) and every training row t = s B + r made of them.
  auto rows_pass = [&](int part, int64_t r0, int64_t r1) {
    const int64_t m = r1 - r0;
    if (m == 0) return;
    // The experts: each modality's values (one-hot classes for a categorical one) -> mu, log sigma.
    for (size_t i = 0; i < n_mod; ++i) {
      const Modality& mod = modalities_[i];
      float* in = inputs_[i].data_ptr<float>();
      const int64_t width = mod.expert_inputs();
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + r * features_ + mod.begin;
        float* row = in + r * width;
        if (!mod.categories) {
          std::copy(xr, xr + mod.width, row);
          continue;
        }
        std::fill(row, row + width, 0.0f);
        for (int64_t j = 0; j < mod.width; ++j)
          row[j * mod.categories + std::clamp<int64_t>(static_cast<int64_t>(xr[j]), 0, mod.categories - 1)] = 1.0f;
      }
      nets.forward(mod.expert_first, mod.expert_last, in + r0 * width, width, r0, m);
      // Its log precisions -2 log sigma_m, once per batch row for every subset.
      const float* h = head(i);
      float* lp = log_precisions_[i].data_ptr<float>();
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t d = 0; d < latent; ++d)
          lp[r * latent + d] = -2.0f * floored_log_scale(h[r * 2 * latent + latent + d]);
    }
    // Each training row's product of experts, its z and KL(q || N(0, s^2)) =
    // log s - log sigma + (sigma^2 + mu^2) / (2 s^2) - 1/2.
    std::vector<const float*> log_precision(n_mod);
    for (size_t i = 0; i < n_mod; ++i) log_precision[i] = log_precisions_[i].data_ptr<float>();
    for (int64_t s = 0; s < n_subsets; ++s)
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = s * rows + r;
        double kl_sum = 0;
        for (int64_t d = 0; d < latent; ++d) {
          const float log_prior = -2.0f * prior_log_scale[d];
          float top = log_prior;
          for (size_t i = 0; i < n_mod; ++i)
            if (subsets_[s][i]) top = std::max(top, log_precision[i][r * latent + d]);
          float sum = std::exp(log_prior - top), weighted = 0;
          for (size_t i = 0; i < n_mod; ++i)
            if (subsets_[s][i]) {
              const float w = std::exp(log_precision[i][r * latent + d] - top);
              sum += w;
              weighted += w * head(i)[r * 2 * latent + d];
            }
          const float mu = weighted / sum, ls = -0.5f * (top + std::log(sum)), sigma = std::exp(ls);
          mean[t * latent + d] = mu;
          log_sigma[t * latent + d] = ls;
          z[t * latent + d] = mu + sigma * eps[t * latent + d];
          kl_sum += prior_log_scale[d] - ls +
                    0.5f * (sigma * sigma + mu * mu) * std::exp(2.0f * -prior_log_scale[d]) - 0.5f;
        }
        kl_rows[t] = static_cast<float>(kl_sum);
        reconstruction_rows[t] = 0.0f;
        std::fill(grad_z + t * latent, grad_z + (t + 1) * latent, 0.0f);
      }
    // Each decoder on its training rows of these batch rows, (k, r) at S_m r0 + k m + (r - r0).
    for (size_t i = 0; i < n_mod; ++i) {
      const Modality& mod = modalities_[i];
      const int64_t scored = static_cast<int64_t>(mod.scored.size()), base = scored * r0;
      float* codes = codes_[i].data_ptr<float>();
      float* scores = scores_[i].data_ptr<float>();
      for (int64_t k = 0; k < scored; ++k)
        std::copy(z + (static_cast<int64_t>(mod.scored[k]) * rows + r0) * latent,
                  z + (static_cast<int64_t>(mod.scored[k]) * rows + r1) * latent, codes + (base + k * m) * latent);
      nets.forward(mod.decoder_first, mod.decoder_last, codes + base * latent, latent, base, scored * m);
      float* logits = out[mod.decoder_last - 1] + base * layers_[mod.decoder_last - 1].out;
      const float* in = inputs_[i].data_ptr<float>() + r0 * mod.expert_inputs();
      if (!mod.categories)
        dist::bernoulli_log_prob_rows(in, m, logits, scored * m, mod.width, scores + base, logits, inv_rows);
      else
        categorical_log_prob_rows(x + r0 * features_ + mod.begin, m, features_, logits, scored * m, mod.width,
                                  mod.categories, scores + base, inv_rows);
      float* code_grads = code_grads_[i].data_ptr<float>();
      nets.backward(mod.decoder_first, mod.decoder_last, code_grads + base * latent, latent, base, scored * m);
      for (int64_t k = 0; k < scored; ++k)
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t t = static_cast<int64_t>(mod.scored[k]) * rows + r, row = base + k * m + (r - r0);
          reconstruction_rows[t] += scores[row];
          for (int64_t d = 0; d < latent; ++d) grad_z[t * latent + d] += code_grads[row * latent + d];
        }
    }
    // Back through z = mu + sigma eps, the KL (d/dmu = mu / s^2, d/dlog sigma = sigma^2 / s^2 - 1)
    // and the product into each expert's mu and raw log sigma (dlog lambda_m/dr = -2 (1 - sigma_min / sigma_m)).
    for (size_t i = 0; i < n_mod; ++i) {
      float* g = grad[modalities_[i].expert_last - 1];
      std::fill(g + r0 * 2 * latent, g + r1 * 2 * latent, 0.0f);
    }
    for (int64_t s = 0; s < n_subsets; ++s)
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = s * rows + r;
        for (int64_t d = 0; d < latent; ++d) {
          const float mu = mean[t * latent + d], ls = log_sigma[t * latent + d], sigma = std::exp(ls);
          const float inv_prior_var = std::exp(-2.0f * prior_log_scale[d]);
          const float dz = grad_z[t * latent + d];
          const float g_mean = dz + kl_weight * mu * inv_prior_var;
          const float g_log_sigma = dz * sigma * eps[t * latent + d] + kl_weight * (sigma * sigma * inv_prior_var - 1.0f);
          const float log_total = -2.0f * ls;
          for (size_t i = 0; i < n_mod; ++i)
            if (subsets_[s][i]) {
              const float* h = head(i);
              float* g = grad[modalities_[i].expert_last - 1];
              const float w = std::exp(log_precision[i][r * latent + d] - log_total);
              g[r * 2 * latent + d] += w * g_mean;
              // dloss/dlog lambda_m, kept in the raw log sigma's place until all subsets are in.
              g[r * 2 * latent + latent + d] += w * ((h[r * 2 * latent + d] - mu) * g_mean - 0.5f * g_log_sigma);
            }
        }
      }
    for (size_t i = 0; i < n_mod; ++i) {
      const Modality& mod = modalities_[i];
      float* g = grad[mod.expert_last - 1];
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t d = 0; d < latent; ++d) {
          const float sigma = std::exp(-0.5f * log_precision[i][r * latent + d]);
          g[r * 2 * latent + latent + d] *= -2.0f * floored_log_scale_slope(sigma);
        }
      nets.backward(mod.expert_first, mod.expert_last, nullptr, 0, r0, m);
    }
    // ||G||^2 and ||A||^2 of these rows, for the finiteness bound of the fused update.
    if (!updates.empty())
      for (size_t i = 0; i < n_mod; ++i) {
        const Modality& mod = modalities_[i];
        const int64_t scored = static_cast<int64_t>(mod.scored.size());
        for (size_t j = mod.expert_first; j < mod.expert_last; ++j)
          squared_norms(part, j, r0, m, j == mod.expert_first ? inputs_[i].data_ptr<float>() : out[j - 1]);
        for (size_t j = mod.decoder_first; j < mod.decoder_last; ++j)
          squared_norms(part, j, scored * r0, scored * m, j == mod.decoder_first ? codes_[i].data_ptr<float>() : out[j - 1]);
      }
  };

  // Each thread's BLAS calls stay on that thread, in the row passes and in the weight pass.
  const BlasThreadsScope single_threaded_blas(parts > 1 ? 1 : 0);
  run_row_blocks(threads_, parts, rows, rows_pass);
  metric_sums_ = sum_rows(reconstruction_rows, kl_rows, total);
  const double loss = (beta * metric_sums_.kl - metric_sums_.reconstruction) / static_cast<double>(total);

  // The weight pass: each layer over its rows; a first layer reads its expert's values or its
  // decoder's codes.
  auto operands = [&](size_t first, size_t last, const float* input) {
    for (size_t i = first; i < last; ++i) {
      DenseLayer& l = layers_[i];
      l.grad = grad[i];
      l.grad_stride = l.out;
      l.input = i == first ? input : out[i - 1];
      l.input_stride = l.in;
      l.rows = layer_rows[i];
    }
  };
  for (size_t i = 0; i < n_mod; ++i) {
    operands(modalities_[i].expert_first, modalities_[i].expert_last, inputs_[i].data_ptr<float>());
    operands(modalities_[i].decoder_first, modalities_[i].decoder_last, codes_[i].data_ptr<float>());
  }
  updated_ = !updates.empty() && std::isfinite(loss) &&
             DenseWeightPass::provably_finite(layers_, squared_grad_parts, squared_input_parts);
  gradient_norm_ = std::sqrt(weight_pass_->run(layers_, updated_ ? updates : std::vector<AdamUpdate>(), threads_, parts));

  return step_value(beta, reconstruction, kl, loss);
}

std::unique_ptr<TrainStep> make_fused_multimodal_step(model::Model& model, const objective::Objective& objective,
                                                      const data::Dataset& train, std::string& why) {
  auto* multimodal = dynamic_cast<model::MultimodalVaeImpl*>(&model);
  const auto* elbo = dynamic_cast<const objective::Elbo*>(&objective);  // not null once objective_refusal is ""
  if (!multimodal) return nullptr;  // the reason stays the previous step's
  if (!(why = FusedMultimodalStep::unsupported(*multimodal)).empty()) {}
  else if (!(why = objective_refusal(objective, false)).empty()) {}
  else if (elbo->options().classification_weight() > 0) why = "a classification term";
  else if (!train.x.device().is_cpu()) why = "the data are not on the CPU";
  else if (train.mask.defined() && !(train.mask > 0).all().item<bool>()) why = "some rows lack a modality or values";
  else return std::make_unique<FusedTrainStep<FusedMultimodalStep>>(*multimodal, objective);
  return nullptr;
}

}  // namespace elbo::train
