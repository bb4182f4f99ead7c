#pragma once
// A k-th order Markov chain over an alphabet of C symbols fitted on sequence windows: the honest
// baseline a sequence VAE's bits per base must beat.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace elbo::diag {

/// A k-th order Markov chain with additive smoothing. Fitted on windows [N, L] of class indices in [0, C) with an
/// optional mask (0 = unknown base), it keeps for every order j = 0..k the counts n_j(c, s) of context c (the j
/// bases before a position, a base-C code, first base most significant) followed by symbol s, over every
/// position of every window whose j + 1 bases are known, and predicts
///   p_j(s | c) = (n_j(c, s) + alpha) / (n_j(c) + C alpha)
/// (Laplace's rule with pseudocount alpha; Manning & Schuetze 1999, 6.2.2). Position i of a window is predicted
/// from its preceding min(i, k) bases, so the first bases of a window use the lower orders and each window is
/// scored on its own, as a VAE scores a window; an unknown base is not scored, and a context reaching back over
/// an unknown base is shortened to the known bases right before i. The default alpha = 1/2 is the
/// Krichevsky-Trofimov estimator (the Dirichlet(1/2) Jeffreys prior): its code length exceeds the best fixed
/// chain's by only (C - 1)/2 log n per context (Krichevsky & Trofimov 1981), where Laplace's alpha = 1 spends
/// too much probability on the many rarely seen contexts of the high orders (4^5 of order 5), and a small alpha
/// is overconfident in them.
class MarkovChain {
 public:
  /// Counts every order 0..k of `windows` (mask undefined = all known). Errors name what was expected.
  static MarkovChain fit(const torch::Tensor& windows, const torch::Tensor& mask, int64_t order, int64_t classes = 4,
                         double alpha = 0.5);

  /// The chain of order j <= order() on the same counts (what fit with order j gives, without counting again).
  MarkovChain truncated(int64_t j) const;

  int64_t order() const { return order_; }
  int64_t classes() const { return classes_; }
  double alpha() const { return alpha_; }
  /// Counts n_j(c, s) of order j: float64 [C^j, C].
  const torch::Tensor& counts(int64_t j) const;
  /// Smoothed transition probabilities p_j(s | c): float64 [C^j, C], rows summing to 1.
  torch::Tensor probabilities(int64_t j) const;

  /// log p(window) in nats: the sum over the known positions of log p_j(x_i | context), float64 [N].
  torch::Tensor log_prob(const torch::Tensor& windows, const torch::Tensor& mask = {}) const;
  /// n windows of `length` bases drawn from the chain (the first k positions from the lower orders):
  /// int64 [n, length], deterministic in `seed`.
  torch::Tensor sample(int64_t n, int64_t length, uint64_t seed) const;

 private:
  int64_t order_ = 0, classes_ = 4;
  double alpha_ = 0.5;
  std::vector<torch::Tensor> counts_;  // [k + 1] of [C^j, C]
};

/// Bits per base of a chain on a data set: -sum log p / (ln 2 * scored bases), the scored bases being the known
/// ones (every known base is scored).
double bits_per_base(const MarkovChain& chain, const torch::Tensor& windows, const torch::Tensor& mask = {});

}  // namespace elbo::diag
