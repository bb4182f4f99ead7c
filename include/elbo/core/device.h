#pragma once
#include <c10/core/Device.h>

#include <string>

namespace elbo {

/// "cpu", "cuda" or "auto" (cuda when available). Asking for cuda with a
/// LibTorch built without it throws std::invalid_argument saying how to get one.
c10::Device resolve_device(const std::string& name);

/// Sets LibTorch's intra-op threads (0 = leave LibTorch's default).
void set_threads(int64_t threads);

}  // namespace elbo
