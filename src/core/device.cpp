#include "elbo/core/device.h"

#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"
#include "elbo/core/worker_threads.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>

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

void set_threads(int64_t threads, bool convolutions) {
  ELBO_CHECK(threads >= 0, "threads must be >= 0 (got ", threads, ")");
  static const int cores = std::max(1, blas_threads());  // the BLAS's own choice (OPENBLAS_NUM_THREADS, or all cores)
  if (threads == 0 && convolutions) {
    kernel_team();  // made at its first use with one thread per BLAS thread: before they drop to one
    set_blas_threads(1);
    at::set_num_threads(cores);
  } else {
    set_blas_threads(cores);
    at::set_num_threads(threads > 0 ? static_cast<int>(threads) : 1);
  }
  // Denormal floats (tiny Adam moments, saturated activations) are ~100x slower on x86.
  at::globalContext().setFlushDenormal(true);
}

}  // namespace elbo
