#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

/// Branch-free float32 elementary functions for the hand-written kernels, for
/// scalars and for 8-float vectors (GCC/Clang vector extensions: AVX in the
/// AVX2+FMA clones of the callers, pairs of SSE registers otherwise). Accurate to a
/// few ulp on the ranges stated; tests/train/fused_vae_step_test.cpp checks them
/// against the C library.
// The 8-float vectors only pass between always-inlined functions: no ABI concern.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace elbo::fast {

using Vec = float __attribute__((vector_size(32)));      ///< 8 floats
using VecInt = int32_t __attribute__((vector_size(32)));  ///< 8 ints

// Inlined even into the AVX2+FMA clones of their callers, where they vectorize.
#if defined(__GNUC__)
#define ELBO_FAST_INLINE inline __attribute__((always_inline))
#else
#define ELBO_FAST_INLINE inline
#endif

/// Marks a function with loops over these: an x86-64-v3 clone (AVX2 and FMA) is picked
/// at load time when the CPU has them (GCC function multi-versioning), the baseline otherwise.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ELBO_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ELBO_VECTOR_CLONES
#endif

template <class T>
ELBO_FAST_INLINE T splat(float c) { return T{} + c; }
ELBO_FAST_INLINE float from_bits(int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
ELBO_FAST_INLINE Vec from_bits(VecInt b) {
  Vec f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
ELBO_FAST_INLINE int32_t to_int(float x) { return static_cast<int32_t>(x); }
ELBO_FAST_INLINE VecInt to_int(Vec x) { return __builtin_convertvector(x, VecInt); }
template <class T>
ELBO_FAST_INLINE T abs(T x) { return x < splat<T>(0.0f) ? -x : x; }
template <class T>
ELBO_FAST_INLINE T relu(T x) { return x > splat<T>(0.0f) ? x : splat<T>(0.0f); }

/// e^x for x <= 0: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-7
/// polynomial for e^r (Cephes expf) and 2^n from the exponent bits. x is clamped
/// at -87: below it the result is e^-87 ~ 1.6e-38 (the smallest normal floats).
template <class T>
ELBO_FAST_INLINE T exp_nonpositive(T x) {
  x = x < splat<T>(-87.0f) ? splat<T>(-87.0f) : x;
  const T n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2)
  const T r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  T p = splat<T>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * from_bits((to_int(n) + 127) << 23);
}

/// log(1 + e) for 0 <= e <= 1 as 2 atanh(s), s = e / (2 + e) <= 1/3:
/// 2 s (1 + s^2/3 + s^4/5 + ... + s^14/15), truncation below 2e-9 relative.
template <class T>
ELBO_FAST_INLINE T log1p_unit(T e) {
  const T s = e / (2.0f + e), s2 = s * s;
  T p = splat<T>(1.0f / 15);
  p = p * s2 + 1.0f / 13;
  p = p * s2 + 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  p = p * s2 + 1.0f;
  return 2.0f * s * p;
}

/// softplus(l) = log(1 + e^l) = max(l, 0) + log(1 + e^-|l|), to float32 precision for l >= -87.
template <class T>
ELBO_FAST_INLINE T softplus(T l) { return relu(l) + log1p_unit(exp_nonpositive(-abs(l))); }

/// log(x) for normal x > 0: x = 2^n m with m in [1, 2), log(x) = n ln 2 + log(1 + (m - 1)).
template <class T>
ELBO_FAST_INLINE T log_positive(T x) {
  const auto bits = [](T v) {
    if constexpr (sizeof(T) == sizeof(float)) {
      int32_t b;
      std::memcpy(&b, &v, sizeof b);
      return b;
    } else {
      VecInt b;
      std::memcpy(&b, &v, sizeof b);
      return b;
    }
  };
  const auto b = bits(x);
  const auto n = (b >> 23) - 127;
  const T m = from_bits((b & 0x007fffff) | 0x3f800000);
  T nf;
  if constexpr (sizeof(T) == sizeof(float)) nf = static_cast<float>(n);
  else nf = __builtin_convertvector(n, Vec);
  return nf * 0.693147180559945309f + log1p_unit(m - 1.0f);
}

/// sigmoid(l) = 1 / (1 + e^-l), from e = e^-|l| without overflow.
template <class T>
ELBO_FAST_INLINE T sigmoid(T l) {
  const T e = exp_nonpositive(-abs(l));
  const T r = 1.0f / (1.0f + e);
  return l >= splat<T>(0.0f) ? r : e * r;
}

ELBO_FAST_INLINE Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
ELBO_FAST_INLINE void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
ELBO_FAST_INLINE float sum(Vec v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

}  // namespace elbo::fast

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
