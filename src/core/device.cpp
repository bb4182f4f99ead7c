#include "elbo/core/device.h"

#include "elbo/core/check.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

namespace elbo {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  const bool cuda = torch::cuda::is_available();
  if (name == "auto") return cuda ? c10::Device(c10::kCUDA) : c10::Device(c10::kCPU);
  ELBO_CHECK(name == "cuda", "device '", name, "' is not one of: cpu, cuda, auto");
  ELBO_CHECK(cuda, "device 'cuda' requested but this LibTorch has no CUDA device available; "
                   "build elbo against a CUDA LibTorch (see README, \"CUDA builds\") or use train.device=cpu");
  return c10::Device(c10::kCUDA);
}

void set_threads(int64_t threads) {
  ELBO_CHECK(threads >= 0, "threads must be >= 0 (got ", threads, ")");
  // Auto: one LibTorch thread, because OpenBLAS already spreads each GEMM over
  // all cores; both at once oversubscribe the CPU (measured ~2x slower on 2 cores).
  at::set_num_threads(threads > 0 ? static_cast<int>(threads) : 1);
  // Denormal floats (tiny Adam moments, saturated activations) are ~100x slower on x86.
  at::globalContext().setFlushDenormal(true);
}

}  // namespace elbo
