#include "elbo/train/dense_weight_pass.h"

#include "elbo/core/fast_math.h"
#include "elbo/nn/dense_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace elbo::train {
namespace {

/// Weights per piece of the weight pass, at most: the piece's dW (320 KB) stays in a
/// core's L2 until Adam reads it. Each piece packs its layer's whole input again, so
/// smaller pieces cost more (40k measured slower, as did 160k).
constexpr int64_t kPieceWeights = 80000;

/// out[j] = sum_r g[r * ld + j] for j < n.
ELBO_VECTOR_CLONES void column_sums(const float* g, int64_t ld, int64_t rows, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) out[j] = 0.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) out[j] += g[r * ld + j];
}

}  // namespace

float* grad_data(torch::Tensor parameter) {
  if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
  return parameter.grad().data_ptr<float>();
}

void run_parts(WorkerThreads* team, int parts, const std::function<void(int)>& job) {
  if (parts == 1 || !team) return job(0);
  team->run([&](int part) {
    if (part < parts) job(part);
  });
}

DenseWeightPass::DenseWeightPass(const std::vector<DenseLayer>& layers) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const DenseLayer& l = layers[i];
    const int64_t count = std::clamp<int64_t>((l.out * l.in + kPieceWeights - 1) / kPieceWeights, 1, l.out);
    for (int64_t j = 0; j < count; ++j) {
      const auto [o0, o1] = part_range(l.out, static_cast<int>(j), static_cast<int>(count));
      pieces_.push_back({i, o0, o1});
      largest_piece_ = std::max(largest_piece_, (o1 - o0) * (l.in + 1));
    }
  }
  std::stable_sort(pieces_.begin(), pieces_.end(), [&](const Piece& a, const Piece& b) {
    return (a.o1 - a.o0) * layers[a.layer].in > (b.o1 - b.o0) * layers[b.layer].in;
  });
}

std::vector<AdamUpdate> DenseWeightPass::adam_updates(torch::optim::Adam* optimizer,
                                                      const std::vector<DenseLayer>& layers,
                                                      const std::vector<torch::Tensor>& extra) {
  std::vector<AdamUpdate> updates;
  if (!optimizer) return updates;
  size_t held = 0;
  for (const auto& group : optimizer->param_groups()) held += group.params().size();
  if (held != 2 * layers.size() + extra.size()) return updates;
  for (const DenseLayer& l : layers)
    for (const torch::Tensor* p : {&l.weight, &l.bias})
      if (const std::optional<AdamUpdate> u = next_adam_update(*optimizer, *p)) updates.push_back(*u);
  for (const torch::Tensor& p : extra)
    if (const std::optional<AdamUpdate> u = next_adam_update(*optimizer, p)) updates.push_back(*u);
  if (updates.size() != held) updates.clear();
  return updates;
}

bool DenseWeightPass::provably_finite(const std::vector<DenseLayer>& layers,
                                      const std::vector<double>& squared_grad_parts,
                                      const std::vector<double>& squared_input_parts) {
  constexpr double limit = 0.5 * std::numeric_limits<float>::max();
  const size_t n = layers.size();
  for (size_t i = 0; i < n; ++i) {
    double squared_grad = 0, squared_input = 0;
    for (size_t k = i; k < squared_grad_parts.size(); k += n)
      squared_grad += squared_grad_parts[k], squared_input += squared_input_parts[k];
    if (!(std::sqrt(squared_grad * squared_input) < limit &&
          std::sqrt(squared_grad * static_cast<double>(layers[i].rows)) < limit))
      return false;
  }
  return true;
}

double DenseWeightPass::run(const std::vector<DenseLayer>& layers, const std::vector<AdamUpdate>& updates,
                            WorkerThreads* team, int parts) {
  const bool apply = !updates.empty();
  // Every parameter has a .grad() from the first step on, applied or not (as the autograd step's).
  std::vector<float*> weight_grads, bias_grads;
  for (const DenseLayer& l : layers) weight_grads.push_back(grad_data(l.weight)), bias_grads.push_back(grad_data(l.bias));
  if (apply && static_cast<int>(blocks_.size()) < parts)  // per thread, zeroed
    blocks_.assign(parts, std::vector<float>(largest_piece_));
  // Output units [o0, o1) of a layer: dW = G^T A and db = column sums of G over all rows;
  // then, fused while they are in cache, Adam's update of those weights and biases from
  // them, which sums their squares on the way (without Adam, a pass of its own).
  std::vector<double> squared_norms(pieces_.size(), 0.0);
  auto piece = [&](int part, size_t k) {
    const Piece& p = pieces_[k];
    const DenseLayer& l = layers[p.layer];
    const int64_t o0 = p.o0, o1 = p.o1;
    float* dw = apply ? blocks_[part].data() : weight_grads[p.layer] + o0 * l.in;
    float* db = apply ? dw + (o1 - o0) * l.in : bias_grads[p.layer] + o0;
    // The thread's block is all zeros here (Adam clears what it reads): dW is added into it.
    const int64_t shared = l.in - l.labels.width;
    nn::sgemm(true, false, o1 - o0, shared, l.rows, l.grad + o0, l.grad_stride, l.input, l.input_stride, dw, l.in,
              apply);
    if (l.labels.width > 0)
      nn::sgemm(true, false, o1 - o0, l.labels.width, l.labels.rows, l.labels.grad + o0, l.labels.grad_stride,
                l.labels.input, l.labels.input_stride, dw + shared, l.in, apply);
    column_sums(l.grad + o0, l.grad_stride, l.rows, o1 - o0, db);
    squared_norms[k] = apply ? updates[2 * p.layer].apply_clearing(dw, o0 * l.in, o1 * l.in) +
                                   updates[2 * p.layer + 1].apply_clearing(db, o0, o1)
                             : nn::squared_norm(dw, (o1 - o0) * l.in) + nn::squared_norm(db, o1 - o0);
  };
  std::atomic<size_t> next{0};
  run_parts(team, parts, [&](int part) {
    for (size_t k; (k = next.fetch_add(1)) < pieces_.size();) piece(part, k);
  });
  if (apply)
    for (size_t i = 0; i < 2 * layers.size(); ++i) updates[i].count();
  double sum = 0;
  for (const double s : squared_norms) sum += s;
  return sum;
}

}  // namespace elbo::train
