#pragma once
#include "elbo/core/fast_math.h"

#include <torch/types.h>

#include <cmath>
#include <cstdint>

// Standard normal draws addressed by (key, index): any element of a noise tensor can be made
// where it is needed and made again in the backward pass, so no noise tensor is stored.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace elbo {

/// The key of one noise tensor: two 32-bit words, drawn from LibTorch's default CPU generator
/// (so torch::manual_seed fixes them, as it fixes torch::randn).
struct NormalKey {
  uint32_t k0 = 0, k1 = 0;
  /// A fresh key from the default CPU generator.
  static NormalKey draw();
  /// The key of draw `d` of a tensor drawn k times: both words from SplitMix64 of (key, d), so
  /// no two draws share a word (which would repeat one draw's noise, shuffled, in another).
  NormalKey for_draw(int64_t d) const;
};

/// The first n = numel(shape) elements of the noise of `key` (fast::standard_normal) as a tensor.
torch::Tensor standard_normal(NormalKey key, at::IntArrayRef shape, at::ScalarType dtype = at::kFloat);

namespace fast {

using VecU = uint32_t __attribute__((vector_size(32)));  ///< 8 unsigned ints

/// lowbias32 (C. Wellons, "Prospecting for hash functions", 2018), a bijection of 32-bit words
/// with near-ideal avalanche: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16.
template <class U>
ELBO_FAST_INLINE U hash32(U x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/// erfinv(x) / x from w = -log(1 - x^2) for w < 5 (|x| < 0.9966): the central polynomial of
/// M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision.
template <class T>
ELBO_FAST_INLINE T erfinv_ratio_central(T w) {
  w = w - 2.5f;
  T p = splat<T>(2.81022636e-08f);
  p = p * w + 3.43273939e-07f;
  p = p * w - 3.5233877e-06f;
  p = p * w - 4.39150654e-06f;
  p = p * w + 0.00021858087f;
  p = p * w - 0.00125372503f;
  p = p * w - 0.00417768164f;
  p = p * w + 0.246640727f;
  p = p * w + 1.50140941f;
  return p;
}

/// The same for w >= 5 (Giles' tail polynomial in sqrt(w) - 3).
inline float erfinv_ratio_tail(float w) {
  const float t = std::sqrt(w) - 3.0f;
  float p = -0.000200214257f;
  p = p * t + 0.000100950558f;
  p = p * t + 0.00134934322f;
  p = p * t - 0.00367342844f;
  p = p * t + 0.00573950773f;
  p = p * t - 0.0076224613f;
  p = p * t + 0.00943887047f;
  p = p * t + 1.00167406f;
  p = p * t + 2.83297682f;
  return p;
}

/// The standard normal quantile of u = (h + 1/2) / 2^24 for 24 bits h: z = sqrt(2) erfinv(x),
/// x = 2u - 1 (inversion of the normal CDF: one uniform per draw, |z| < 5.5). 1 - x^2 =
/// (1 - x)(1 + x) is formed from the integers 2^24 -/+ m, m = 2h + 1 - 2^24, so the tails keep
/// their digits.
ELBO_FAST_INLINE float normal_quantile24(uint32_t h) {
  const int32_t m = static_cast<int32_t>(2 * h + 1) - (1 << 24);
  const float x = static_cast<float>(m) * (1.0f / 16777216.0f);
  const float one_minus_x2 = static_cast<float>((1 << 24) - m) * static_cast<float>((1 << 24) + m) * 0x1p-48f;
  const float w = -log_positive(one_minus_x2);
  return 1.41421356237309505f * x * (w < 5.0f ? erfinv_ratio_central(w) : erfinv_ratio_tail(w));
}

/// Element `index` of the standard normal noise of `key`: the quantile of the top 24 bits of
/// hash32(hash32(index ^ k0) + k1).
ELBO_FAST_INLINE float standard_normal(NormalKey key, uint32_t index) {
  return normal_quantile24(hash32(hash32(index ^ key.k0) + key.k1) >> 8);
}

/// Elements index, ..., index + 7 of the noise of `key` (equal to standard_normal's, up to the
/// contraction of multiply-adds).
ELBO_FAST_INLINE Vec standard_normal8(NormalKey key, uint32_t index) {
  const VecU lanes = VecU{0, 1, 2, 3, 4, 5, 6, 7} + index;
  const VecU h = hash32(hash32(lanes ^ key.k0) + key.k1) >> 8;
  const VecInt m = __builtin_convertvector(2 * h + 1, VecInt) - (1 << 24);
  const Vec x = __builtin_convertvector(m, Vec) * (1.0f / 16777216.0f);
  const Vec one_minus_x2 =
      __builtin_convertvector((1 << 24) - m, Vec) * __builtin_convertvector((1 << 24) + m, Vec) * 0x1p-48f;
  const Vec w = -log_positive(one_minus_x2);
  Vec ratio = erfinv_ratio_central(w);
  const VecInt tail = w >= 5.0f;
  if (tail[0] | tail[1] | tail[2] | tail[3] | tail[4] | tail[5] | tail[6] | tail[7])  // 2.7% of the vectors
    for (int l = 0; l < 8; ++l)
      if (tail[l]) ratio[l] = erfinv_ratio_tail(w[l]);
  return 1.41421356237309505f * x * ratio;
}

}  // namespace fast
}  // namespace elbo

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
