#pragma once
#include "elbo/core/worker_threads.h"
#include "elbo/train/adam_step.h"

#include <functional>
#include <vector>

namespace elbo::train {

/// A dense layer of a hand-written step, h = A W^T + b, and per step the operands of its
/// parameters' gradients: G = dloss/dh [rows, out] and its input A [rows, in], each with its
/// row stride.
struct DenseLayer {
  torch::Tensor weight, bias;  // [out, in], [out]
  int64_t in = 0, out = 0;
  const float* grad = nullptr;
  const float* input = nullptr;
  int64_t grad_stride = 0, input_stride = 0, rows = 0;
  /// The input's last `labels.width` columns given apart, when its rows are shared by several
  /// of them (M2's encoder: x once per row, read with every class): dW's first in - width
  /// columns are G^T A (A then has in - width columns), its last ones labels.grad^T
  /// labels.input over labels.rows rows; db is G's column sums alone (G sums each row's uses).
  struct {
    const float* grad = nullptr;
    const float* input = nullptr;
    int64_t width = 0, grad_stride = 0, input_stride = 0, rows = 0;
  } labels;
};

/// The data of `parameter`'s .grad(), made (zeros) where it has none (a tensor is a shared handle:
/// the grad is the parameter's own).
float* grad_data(torch::Tensor parameter);

/// Runs job(part) for part < parts on `team` (inline when parts is 1 or team null).
void run_parts(WorkerThreads* team, int parts, const std::function<void(int)>& job);

/// The weight pass of a hand-written step: each layer's dW = G^T A and db = the column sums of G,
/// over all its rows, in pieces of output units taken by the next free thread, largest first (a
/// thread that starts late or is slowed by the host leaves its share to the other). With Adam's
/// updates, each piece's update is applied while its gradient is in cache (adam_step's loop,
/// which sums the squares on the way) and no .grad() is written; else the gradients are written
/// to .grad().
class DenseWeightPass {
 public:
  /// Plans the pieces for `layers`' shapes.
  explicit DenseWeightPass(const std::vector<DenseLayer>& layers);

  /// Adam's update of every layer's weight and bias (in layer order), then of each of `extra`,
  /// when `optimizer` (may be null) holds exactly these parameters; else empty.
  static std::vector<AdamUpdate> adam_updates(torch::optim::Adam* optimizer, const std::vector<DenseLayer>& layers,
                                              const std::vector<torch::Tensor>& extra = {});

  /// Whether every |dW| and |db| and their partial sums are provably below FLT_MAX / 2, from each
  /// layer's ||G||_F^2 and ||A||_F^2 (each the sum of the row blocks' parts: entry
  /// part * layers + i, for part < parts): by Cauchy-Schwarz |dW_oj| <= ||G||_F ||A||_F and
  /// |db_o| <= sqrt(rows) ||G||_F.
  static bool provably_finite(const std::vector<DenseLayer>& layers, const std::vector<double>& squared_grad_parts,
                              const std::vector<double>& squared_input_parts);

  /// Runs the pass on `parts` threads of `team`; `updates` empty (write the gradients) or the
  /// first 2 L of adam_updates' (apply them and count the step). Returns the sum of the squares
  /// of every gradient it computed.
  double run(const std::vector<DenseLayer>& layers, const std::vector<AdamUpdate>& updates, WorkerThreads* team,
             int parts);

 private:
  struct Piece {  // output units [o0, o1) of one layer
    size_t layer;
    int64_t o0, o1;
  };
  std::vector<Piece> pieces_;
  int64_t largest_piece_ = 0;  // its dW and db, in floats
  // Per thread: its block of a layer's dW, then Adam's input; all zeros between uses.
  std::vector<std::vector<float>> blocks_;
};

}  // namespace elbo::train
