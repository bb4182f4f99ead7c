#pragma once
#include <cstdint>

namespace elbo {

/// Independent random streams of a run. Each draw is seeded from
/// (run seed, stream, counter), so any step can be replayed without saved
/// generator state: a resumed run draws exactly what an uninterrupted one would.
enum class RngStream : uint64_t {
  init = 1,         ///< parameter initialization
  permutation = 2,  ///< the order of examples in each epoch (counter = epoch)
  step = 3,         ///< noise of one training step (counter = global step)
  validation = 4,   ///< noise of the validation pass (counter = epoch)
  evaluation = 5,   ///< evaluation and report (counter = batch)
  data = 6,         ///< data splits and static binarization
};

/// SplitMix64 (Steele, Lea & Flood 2014): x + 0x9e3779b97f4a7c15, then its finalizer.
uint64_t splitmix64(uint64_t x);

/// SplitMix64 hash of (seed, stream, counter): a well-mixed 64-bit seed.
uint64_t mix_seed(uint64_t seed, RngStream stream, uint64_t counter = 0);

/// Seeds LibTorch's global generators (CPU, and CUDA when present) with
/// mix_seed(seed, stream, counter).
void seed_stream(uint64_t seed, RngStream stream, uint64_t counter = 0);

}  // namespace elbo
