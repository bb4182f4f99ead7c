#pragma once
#include <c10/core/Device.h>

#include <string>

namespace elbo {

/// "cpu", "cuda" or "auto" (cuda when available). Asking for cuda with a
/// LibTorch built without it throws std::invalid_argument saying how to get one.
c10::Device resolve_device(const std::string& name);

/// Sets LibTorch's intra-op threads; 0 = auto = 1, since OpenBLAS already
/// runs each matrix product on all cores (two thread pools oversubscribe the CPU).
void set_threads(int64_t threads);

}  // namespace elbo
