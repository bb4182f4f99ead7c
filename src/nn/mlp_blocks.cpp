#include "elbo/nn/mlp_blocks.h"

#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"
#include "elbo/core/worker_threads.h"
#include "elbo/nn/dense_kernels.h"

#include <algorithm>
#include <vector>

namespace elbo::nn {
namespace {

/// Rows per block at most: a 128 x 784 float32 layer output is 400 KB, within a core's L2.
constexpr int64_t kMaxBlockRows = 128;

}  // namespace

bool mlp_blocks_apply(MlpImpl& mlp, const torch::Tensor& input) {
  // Called by every MlpImpl::forward, training included: the input first, then each
  // layer's tensors as they are (no parameters() list built per call).
  const bool grad_mode = torch::GradMode::is_enabled();
  if (!have_sgemm() || mlp.options().activation() != Activation::relu || !input.defined() ||
      input.scalar_type() != torch::kFloat || !input.device().is_cpu() || (grad_mode && input.requires_grad()) ||
      input.dim() < 1 || input.size(-1) != mlp.options().in())
    return false;
  for (const auto& layer : mlp.layers())
    for (const torch::Tensor* p : {&layer->weight, &layer->bias})
      if (p->scalar_type() != torch::kFloat || !p->device().is_cpu() || !p->is_contiguous() ||
          (grad_mode && p->requires_grad()))
        return false;
  return true;
}

void mlp_blocks(MlpImpl& mlp, const torch::Tensor& input,
                const std::function<void(int64_t, int64_t, const float*)>& consume) {
  ELBO_CHECK(mlp_blocks_apply(mlp, input), "elbo::nn::mlp_blocks: not applicable to this MLP and input ",
             input.sizes());
  const torch::Tensor x = input.contiguous();
  const auto& layers = mlp.layers();
  const int64_t rows = x.numel() / mlp.options().in();
  int64_t widest = 0;
  for (const auto& l : layers) widest = std::max(widest, l->weight.size(0));
  WorkerThreads& team = kernel_team();
  // Few rows still make one block per thread.
  const int64_t block_rows = std::clamp<int64_t>((rows + team.size() - 1) / team.size(), 1, kMaxBlockRows);
  const int64_t blocks = (rows + block_rows - 1) / block_rows;
  const int parts = static_cast<int>(std::min<int64_t>(team.size(), blocks));
  auto job = [&](int part) {
    if (part >= parts) return;
    std::vector<float> a(block_rows * widest), b(block_rows * widest);  // layer outputs, by turns
    const auto [first, last] = part_range(blocks, part, parts);
    for (int64_t block = first; block < last; ++block) {
      const int64_t r0 = block * block_rows, m = std::min(block_rows, rows - r0);
      const float* in = x.data_ptr<float>() + r0 * mlp.options().in();
      float* h = a.data();
      for (size_t i = 0; i < layers.size(); ++i) {
        const auto& w = layers[i]->weight;  // [out, in]
        const int64_t n_out = w.size(0), n_in = w.size(1);
        sgemm(false, true, m, n_out, n_in, in, n_in, w.data_ptr<float>(), n_in, h, n_out);
        add_bias(h, layers[i]->bias.data_ptr<float>(), m, n_out, i + 1 < layers.size());
        in = h;
        h = h == a.data() ? b.data() : a.data();
      }
      consume(r0, m, in);
    }
  };
  // Each thread's sgemm calls stay on it (also with one part: a BLAS thread woken
  // here would spin through the next multi-threaded job).
  BlasThreadsScope single_threaded_blas(1);
  team.run(job);
}

}  // namespace elbo::nn
