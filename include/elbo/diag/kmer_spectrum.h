#pragma once
// Statistics of sequence windows over a small alphabet (DNA: A0 C1 G2 T3): k-mer spectra, their
// Jensen-Shannon divergence, GC content, and a composition-keeping shuffle as a control.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace elbo::diag {

/// Rolling k-mer codes of windows [N, L] of class indices in [0, C) (any numeric dtype) with an
/// optional mask [N, L] (0 = unknown base; its value is ignored). At each position i:
///   code[n, i] = sum_{t=0}^{k-1} x[n, i-t] C^t  (the k-mer ending at i read as a base-C number, its first
///                base most significant; bases before the window's start and unknown bases count as 0),
///   run[n, i]  = min(k, the number of consecutive known bases ending at i), 0 where x[n, i] is unknown.
/// The m-mer ending at i (m <= k) is code mod C^m; it lies inside the window and is fully known iff run >= m.
/// Both int64 [N, L]. Errors name the shapes, or a known value outside [0, C).
struct KmerCodes {
  torch::Tensor code;
  torch::Tensor run;
};
KmerCodes kmer_codes(const torch::Tensor& windows, const torch::Tensor& mask, int64_t k, int64_t classes = 4);

/// Counts of the k-mers inside the windows, float64 [C^k] indexed by the k-mer's base-C code (first base most
/// significant: "ACG" = 0*16 + 1*4 + 2). A k-mer touching an unknown base is skipped; k-mers do not cross windows.
torch::Tensor kmer_counts(const torch::Tensor& windows, const torch::Tensor& mask, int64_t k, int64_t classes = 4);

/// kmer_counts for every k = 1..max_k at once (one pass over the data): element k-1 is [C^k].
std::vector<torch::Tensor> kmer_spectra(const torch::Tensor& windows, const torch::Tensor& mask, int64_t max_k,
                                        int64_t classes = 4);

/// Jensen-Shannon divergence (Lin 1991) of the distributions the counts p and q (same size, >= 0, each with a
/// positive sum) are proportional to, in bits:
///   JSD = H(m) - (H(p) + H(q)) / 2 = (KL(p || m) + KL(q || m)) / 2,  m = (p + q) / 2,
/// with 0 log 0 = 0. Symmetric, 0 iff p = q, 1 iff their supports are disjoint.
double jensen_shannon_bits(const torch::Tensor& p_counts, const torch::Tensor& q_counts);

/// The fraction of G or C (classes 1 and 2 of ACGT) among the known bases of each window: float64 [N], NaN for a
/// window with no known base.
torch::Tensor gc_content(const torch::Tensor& windows, const torch::Tensor& mask = {});

/// Each window's known bases permuted uniformly at random among its known positions (unknown positions stay
/// where they are, so the mask still applies): a control with every window's composition and nothing else.
/// Same shape and dtype as `windows`; deterministic in `seed`.
torch::Tensor shuffle_within(const torch::Tensor& windows, const torch::Tensor& mask, uint64_t seed);

}  // namespace elbo::diag
