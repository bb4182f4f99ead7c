#include "elbo/train/fused_m2_step.h"

#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"
#include "elbo/dist/bernoulli_kernel.h"
#include "elbo/nn/dense_kernels.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/dense_rows.h"
#include "elbo/train/fused_train_step.h"

#include <algorithm>
#include <cmath>

namespace elbo::train {

std::string FusedM2Step::unsupported(const model::M2Impl& model) {
  const auto& o = model.options();
  if (!nn::have_sgemm()) return "elbo was built without a CBLAS library";
  if (o.activation != nn::Activation::relu) return "the activation is not ReLU";
  if (o.likelihood != "bernoulli") return "the likelihood is not Bernoulli";
  for (const auto& p : model.parameters())
    if (p.scalar_type() != torch::kFloat || !p.device().is_cpu()) return "the parameters are not float32 on the CPU";
  return "";
}

FusedM2Step::FusedM2Step(model::M2Impl& model, WorkerThreads* threads, double alpha)
    : classes_(model.classes()), latent_(model.latent_dim()), features_(model.features()), alpha_(alpha),
      threads_(threads) {
  const std::string why = unsupported(model);
  ELBO_CHECK(why.empty(), "elbo::train::FusedM2Step: ", why);
  auto add = [&](const nn::Mlp& mlp) {
    for (const auto& linear : mlp->layers())
      layers_.push_back({linear->weight, linear->bias, linear->weight.size(1), linear->weight.size(0)});
  };
  add(model.classifier_net());
  encoder_first_ = layers_.size();
  add(model.encoder_net());
  decoder_first_ = layers_.size();
  add(model.decoder_net());
  layers_[encoder_first_].labels.width = classes_;  // [x, onehot(y)]: its class columns apart
  weight_pass_.emplace(layers_);
}

objective::Value FusedM2Step::operator()(const torch::Tensor& x_tensor, const torch::Tensor& y_tensor,
                                         const torch::Tensor& y_mask, const torch::Tensor& eps_tensor, double beta,
                                         torch::optim::Adam* optimizer) {
  const int64_t rows = x_tensor.size(0), C = classes_, D = latent_, F = features_, W = D + C;
  const size_t classifier_last = encoder_first_, encoder_last = decoder_first_, n_layers = layers_.size();
  const int64_t H = layers_[encoder_first_].out;  // the encoder's first layer
  ELBO_CHECK(x_tensor.dim() == 2 && x_tensor.size(1) == F && x_tensor.scalar_type() == torch::kFloat &&
                 x_tensor.is_contiguous(),
             "elbo::train::FusedM2Step: expected contiguous float32 data [B, ", F, "], got ", x_tensor.sizes());
  ELBO_CHECK(eps_tensor.sizes() == torch::IntArrayRef({C * rows, D}) && eps_tensor.is_contiguous(),
             "elbo::train::FusedM2Step: expected noise [", C * rows, ", ", D, "], got ", eps_tensor.sizes());
  // Each row's label where known, else -1 (M2Impl::labels_where_known's checks).
  std::vector<int64_t> label(rows, -1);
  if (y_tensor.defined()) {
    ELBO_CHECK(y_tensor.dim() == 1 && y_tensor.size(0) == rows, "elbo::model::M2: expected labels [", rows, "], got ",
               y_tensor.sizes());
    const torch::Tensor y = y_tensor.to(torch::kLong).contiguous();
    const torch::Tensor known = y_mask.defined() ? (y_mask > 0).contiguous() : torch::ones({rows}, torch::kBool);
    for (int64_t r = 0; r < rows; ++r)
      if (known.data_ptr<bool>()[r]) {
        label[r] = y.data_ptr<int64_t>()[r];
        ELBO_CHECK(label[r] >= 0 && label[r] < C, "elbo::model::M2: label ", label[r], " is outside 0..", C - 1,
                   " (model.classes = ", C, ")");
      }
  }
  if (rows > rows_) {
    outputs_.clear(), grads_.clear();
    for (size_t i = 0; i < n_layers; ++i) {
      outputs_.push_back(torch::empty({i < classifier_last ? rows : C * rows, layers_[i].out}));
      grads_.push_back(torch::empty({i < classifier_last ? rows : C * rows, layers_[i].out}));
    }
    shared_ = torch::empty({rows, H}), shared_grad_ = torch::empty({rows, H});
    codes_ = torch::empty({C * rows, W}), code_grads_ = torch::empty({C * rows, W});
    kl_ = torch::empty({C * rows}), scores_ = torch::empty({C * rows});
    rows_ = rows;
  }
  const float* x = x_tensor.data_ptr<float>();
  const float* eps = eps_tensor.data_ptr<float>();
  std::vector<float*> out(n_layers), grad(n_layers);
  for (size_t i = 0; i < n_layers; ++i) out[i] = outputs_[i].data_ptr<float>(), grad[i] = grads_[i].data_ptr<float>();
  grad[n_layers - 1] = out[n_layers - 1];  // the decoder's logits' gradient is written over them
  float *shared = shared_.data_ptr<float>(), *shared_grad = shared_grad_.data_ptr<float>();
  float *codes = codes_.data_ptr<float>(), *code_grads = code_grads_.data_ptr<float>();
  float *kl_rows = kl_.data_ptr<float>(), *scores = scores_.data_ptr<float>();
  torch::Tensor kl = torch::empty({rows}), reconstruction = torch::empty({rows}), label_log_q = torch::empty({rows});
  float *kl_out = kl.data_ptr<float>(), *reconstruction_out = reconstruction.data_ptr<float>();
  float* label_log_q_out = label_log_q.data_ptr<float>();
  // The encoder's first layer on [x, onehot(c)] is W_x x + (W_y[:, c] + b): the class's part once per step.
  const DenseLayer& first = layers_[encoder_first_];
  const float* first_weight = first.weight.data_ptr<float>();
  std::vector<float> class_bias(C * H);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t j = 0; j < H; ++j) class_bias[c * H + j] = first_weight[j * (F + C) + F + c] + first.bias.data_ptr<float>()[j];
  const bool encoder_hidden = encoder_last - encoder_first_ > 1;  // ReLU after the first layer

  std::vector<AdamUpdate> updates = DenseWeightPass::adam_updates(optimizer, layers_);
  const int parts =
      threads_ ? static_cast<int>(std::clamp<int64_t>(rows / kMinRowsPerPart, 1, threads_->size())) : 1;
  // The class rows the encoder and decoder run on: every class of an unlabelled row, the label
  // alone of a labelled one (the others weigh 0 in every term). Block b of batch rows holds
  // class rows [first_row[b], first_row[b + 1]), class-major; class_row[c B + r] is (c, r)'s or -1.
  std::vector<int64_t> row_class, row_batch, first_row(parts + 1), class_row(C * rows, -1);
  for (int b = 0; b < parts; ++b) {
    const auto [r0, r1] = part_range(rows, b, parts);
    first_row[b] = static_cast<int64_t>(row_class.size());
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = r0; r < r1; ++r)
        if (label[r] < 0 || label[r] == c) {
          class_row[c * rows + r] = static_cast<int64_t>(row_class.size());
          row_class.push_back(c), row_batch.push_back(r);
        }
  }
  const int64_t class_rows = first_row[parts] = static_cast<int64_t>(row_class.size());
  auto layer_rows = [&](size_t i) { return i < classifier_last ? rows : class_rows; };
  std::vector<double> squared_grad_parts(parts * n_layers, 0.0), squared_input_parts(parts * n_layers, 0.0);
  const float inv_rows = 1.0f / static_cast<float>(rows), log_classes = std::log(static_cast<float>(C));
  const float beta_f = static_cast<float>(beta), alpha = static_cast<float>(alpha_);
  const DenseRows nets{layers_, out, grad};

  // Batch rows [r0, r1) (block `part`) and their class rows [base, base + cm).
  auto rows_pass = [&](int part, int64_t r0, int64_t r1) {
    const int64_t m = r1 - r0, base = first_row[part], cm = first_row[part + 1] - base;
    if (m == 0) return;
    // q(y | x): log-softmax of the classifier's logits, kept in its last layer's gradient's place.
    nets.forward(0, classifier_last, x + r0 * F, F, r0, m);
    float* log_q = grad[classifier_last - 1];
    for (int64_t r = r0; r < r1; ++r) {
      const float* l = out[classifier_last - 1] + r * C;
      const float log_total = log_sum_exp(l, C);
      for (int64_t c = 0; c < C; ++c) log_q[r * C + c] = l[c] - log_total;
    }
    auto weight = [&](int64_t r, int64_t c) {  // w_rc
      return label[r] >= 0 ? (label[r] == c ? 1.0f : 0.0f) : std::exp(log_q[r * C + c]);
    };
    // q(z | x, c) for every class: x's product once, then each class's bias.
    nn::sgemm(false, true, m, H, F, x + r0 * F, F, first_weight, F + C, shared + r0 * H, H);
    float* hidden = out[encoder_first_];
    for (int64_t row = base; row < base + cm; ++row) {
      const float *a = shared + row_batch[row] * H, *b = class_bias.data() + row_class[row] * H;
      float* h = hidden + row * H;
      for (int64_t j = 0; j < H; ++j) h[j] = encoder_hidden ? std::max(a[j] + b[j], 0.0f) : a[j] + b[j];
    }
    nets.forward(encoder_first_ + 1, encoder_last, hidden + base * H, H, base, cm);
    // z = mu + sigma eps (eps class-major, [C, B, D]), KL(q || N(0, I)) = sum_d -log sigma + (sigma^2 + mu^2 - 1) / 2,
    // and the decoder's input [z, onehot(c)].
    const float* head = out[encoder_last - 1];
    for (int64_t row = base; row < base + cm; ++row) {
      const int64_t c = row_class[row];
      const float *mu = head + row * 2 * D, *e = eps + (c * rows + row_batch[row]) * D;
      float* code = codes + row * W;
      double kl_sum = 0;
      for (int64_t d = 0; d < D; ++d) {
        const float ls = floored_log_scale(mu[D + d]), sigma = std::exp(ls);
        code[d] = mu[d] + sigma * e[d];
        kl_sum += -ls + 0.5f * (sigma * sigma + mu[d] * mu[d] - 1.0f);
      }
      std::fill(code + D, code + W, 0.0f);
      code[D + c] = 1.0f;
      kl_rows[row] = static_cast<float>(kl_sum);
    }
    // p(x | z, c), scored and differentiated with each row's weight w_rc / B.
    nets.forward(decoder_first_, n_layers, codes + base * W, W, base, cm);
    float* logits = out[n_layers - 1];
    for (int64_t row = base; row < base + cm; ++row)
      dist::bernoulli_log_prob_rows(x + row_batch[row] * F, 1, logits + row * F, 1, F, scores + row, logits + row * F,
                                    inv_rows * weight(row_batch[row], row_class[row]));
    nets.backward(decoder_first_, n_layers, code_grads + base * W, W, base, cm);
    // Back through z and the KL (d/dmu = mu, d/dlog sigma = sigma^2 - 1, each times beta w_rc / B)
    // into mu and the raw log sigma (dlog sigma/dr = 1 - sigma_min / sigma).
    float* head_grad = grad[encoder_last - 1];
    for (int64_t row = base; row < base + cm; ++row) {
      const int64_t c = row_class[row], r = row_batch[row];
      const float kl_weight = beta_f * inv_rows * weight(r, c);
      const float *mu = head + row * 2 * D, *e = eps + (c * rows + r) * D, *dz = code_grads + row * W;
      float* g = head_grad + row * 2 * D;
      for (int64_t d = 0; d < D; ++d) {
        const float sigma = std::exp(floored_log_scale(mu[D + d]));
        g[d] = dz[d] + kl_weight * mu[d];
        g[D + d] = (dz[d] * sigma * e[d] + kl_weight * (sigma * sigma - 1.0f)) * floored_log_scale_slope(sigma);
      }
    }
    nets.backward(encoder_first_, encoder_last, nullptr, 0, base, cm);
    // x's product was shared by the classes: its gradient is the sum of theirs.
    std::fill(shared_grad + r0 * H, shared_grad + r1 * H, 0.0f);
    for (int64_t row = base; row < base + cm; ++row) {
      float* s = shared_grad + row_batch[row] * H;
      const float* g = grad[encoder_first_] + row * H;
      for (int64_t j = 0; j < H; ++j) s[j] += g[j];
    }
    // Each row's terms, and the classifier's logits' gradient through the log-softmax.
    float* logit_grad = grad[classifier_last - 1];
    std::vector<float> g(C);  // dloss/dlog q(c | x_r)
    for (int64_t r = r0; r < r1; ++r) {
      const float* l = log_q + r * C;  // replaced by the logits' gradient
      double rec = 0, kl_sum = label[r] >= 0 ? log_classes : 0.0;
      float g_sum = 0;
      for (int64_t c = 0; c < C; ++c) {
        const int64_t row = class_row[c * rows + r];
        const float w = weight(r, c);
        if (row >= 0) rec += w * scores[row], kl_sum += w * kl_rows[row];
        if (label[r] < 0) {
          kl_sum += w * (l[c] + log_classes);
          g[c] = inv_rows * w * (beta_f * kl_rows[row] - scores[row] + beta_f * (l[c] + log_classes + 1.0f));
        } else {
          g[c] = c == label[r] ? -alpha * inv_rows : 0.0f;
        }
        g_sum += g[c];
      }
      reconstruction_out[r] = static_cast<float>(rec);
      kl_out[r] = static_cast<float>(kl_sum);
      label_log_q_out[r] = label[r] >= 0 ? l[label[r]] : 0.0f;
      for (int64_t c = 0; c < C; ++c) logit_grad[r * C + c] = g[c] - std::exp(l[c]) * g_sum;
    }
    nets.backward(0, classifier_last, nullptr, 0, r0, m);
    // ||G||^2 and ||A||^2 of these rows, for the finiteness bound of the fused update; the
    // encoder's first layer takes the larger of its two products' (x's, the classes').
    if (updates.empty()) return;
    auto note = [&](size_t j, double g2, double a2) {
      squared_grad_parts[part * n_layers + j] = g2;
      squared_input_parts[part * n_layers + j] = a2;
    };
    for (size_t j = 0; j < n_layers; ++j) {
      const DenseLayer& l = layers_[j];
      const int64_t r = j < classifier_last ? r0 : base, n = j < classifier_last ? m : cm;
      if (j == encoder_first_)
        note(j, std::max(nn::squared_norm(shared_grad + r0 * H, m * H), nn::squared_norm(grad[j] + base * H, cm * H)),
             std::max(nn::squared_norm(x + r0 * F, m * F), static_cast<double>(cm)));
      else
        note(j, nn::squared_norm(grad[j] + r * l.out, n * l.out),
             nn::squared_norm(j == 0 ? x + r0 * F : j == decoder_first_ ? codes + base * W : out[j - 1] + r * l.in,
                              n * l.in));
    }
  };

  // Each thread's BLAS calls stay on that thread, in the row passes and in the weight pass.
  const BlasThreadsScope single_threaded_blas(parts > 1 ? 1 : 0);
  run_row_blocks(threads_, parts, rows, rows_pass);
  metric_sums_ = sum_rows(reconstruction_out, kl_out, rows);
  double label_sum = 0;
  for (int64_t r = 0; r < rows; ++r) label_sum += label_log_q_out[r];
  const double loss =
      (beta * metric_sums_.kl - metric_sums_.reconstruction - alpha_ * label_sum) / static_cast<double>(rows);

  for (size_t i = 0; i < n_layers; ++i) {
    DenseLayer& l = layers_[i];
    l.grad = grad[i];
    l.grad_stride = l.out;
    l.input = i == 0 || i == encoder_first_ ? x : i == decoder_first_ ? codes : out[i - 1];
    l.input_stride = i == 0 || i == encoder_first_ ? F : l.in;
    l.rows = layer_rows(i);
  }
  DenseLayer& e = layers_[encoder_first_];
  e.grad = shared_grad, e.rows = rows;
  e.labels.grad = grad[encoder_first_], e.labels.grad_stride = H, e.labels.rows = class_rows;
  e.labels.input = codes + D, e.labels.input_stride = W;  // the decoder's input holds onehot(c) in the same rows
  updated_ = !updates.empty() && std::isfinite(loss) &&
             DenseWeightPass::provably_finite(layers_, squared_grad_parts, squared_input_parts);
  gradient_norm_ = std::sqrt(weight_pass_->run(layers_, updated_ ? updates : std::vector<AdamUpdate>(), threads_, parts));

  objective::Value v = step_value(beta, reconstruction, kl, loss);
  if (alpha_ > 0) v.metrics.emplace_back("label_log_q", torch::scalar_tensor(label_sum));
  return v;
}

std::unique_ptr<TrainStep> make_fused_m2_step(model::Model& model, const objective::Objective& objective,
                                              const data::Dataset& train, std::string& why) {
  auto* m2 = dynamic_cast<model::M2Impl*>(&model);
  const auto* elbo = dynamic_cast<const objective::Elbo*>(&objective);  // not null once objective_refusal is ""
  if (!m2) return nullptr;  // the reason stays the previous step's
  if (!(why = FusedM2Step::unsupported(*m2)).empty()) {}
  else if (!(why = objective_refusal(objective, false)).empty()) {}
  else if (train.mask.defined()) why = "the data have missing entries";
  else if (!train.x.device().is_cpu()) why = "the data are not on the CPU";
  else return std::make_unique<FusedTrainStep<FusedM2Step>>(*m2, objective, elbo->options().classification_weight());
  return nullptr;
}

}  // namespace elbo::train
