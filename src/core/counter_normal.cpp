#include "elbo/core/counter_normal.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <mutex>

namespace elbo {

NormalKey NormalKey::draw() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  const uint64_t r = at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
  return {static_cast<uint32_t>(r), static_cast<uint32_t>(r >> 32)};
}

NormalKey NormalKey::for_draw(int64_t d) const {
  const uint64_t x = splitmix64(((static_cast<uint64_t>(k1) << 32) | k0) ^ static_cast<uint64_t>(d));
  return {static_cast<uint32_t>(x), static_cast<uint32_t>(x >> 32)};
}

torch::Tensor standard_normal(NormalKey key, at::IntArrayRef shape, at::ScalarType dtype) {
  torch::Tensor z = torch::empty(shape, torch::kFloat);
  const int64_t n = z.numel();
  ELBO_CHECK(n <= (int64_t{1} << 32), "elbo::standard_normal: at most 2^32 elements per key (got ", n, ")");
  float* out = z.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) out[i] = fast::standard_normal(key, static_cast<uint32_t>(i));
  return z.to(dtype);
}

}  // namespace elbo
