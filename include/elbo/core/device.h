#pragma once
#include <c10/core/Device.h>

#include <string>

namespace elbo {

/// "cpu", "cuda" or "auto" (cuda when available). Asking for cuda with a
/// LibTorch built without it throws std::invalid_argument saying how to get one.
c10::Device resolve_device(const std::string& name);

/// Sets LibTorch's intra-op threads (and, for models with convolutions, the BLAS's). 0 = auto,
/// measured per kind of model (bench/README.md): a model of matrix products gets one LibTorch
/// thread, since OpenBLAS already runs each product on all cores; a model with `convolutions`
/// (oneDNN kernels, which LibTorch splits over its own threads) gets as many LibTorch threads as
/// the BLAS had at the first call and a single-threaded BLAS. Two thread pools at once
/// oversubscribe the cores (measured 2-4x slower on 2 cores).
void set_threads(int64_t threads, bool convolutions = false);

}  // namespace elbo
