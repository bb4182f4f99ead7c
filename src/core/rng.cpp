#include "elbo/core/rng.h"

#include <torch/utils.h>

namespace elbo {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t mix_seed(uint64_t seed, RngStream stream, uint64_t counter) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(stream)) ^ counter);
}

void seed_stream(uint64_t seed, RngStream stream, uint64_t counter) {
  // torch::manual_seed takes uint64_t; keep within 63 bits so the value
  // round-trips through int64 checkpoints and Python.
  torch::manual_seed(mix_seed(seed, stream, counter) >> 1);
}

}  // namespace elbo
