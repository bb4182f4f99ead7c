#pragma once
// The lattice of a crystal decoded given its atom count (model.lattice_given_count of the crystal VAE,
// crystal_vae.h): the count first, then the lattice, so that a cell's size follows the number of atoms
// it holds and the code need only say how much room each atom has.
#include "elbo/dist/distribution.h"

#include <functional>
#include <vector>

namespace elbo::model {

using torch::Tensor;

/// p(v, n | z) over a row's six lattice features v and its atom count n ([..., 7]: v, then n, the rows'
/// order), factorized count first:
///   p(v, n | z) = p(n | z) p(v | z, n),
/// p(n | z) a categorical over 1..N and p(v | z, n) a distribution over the six features for each count
/// (the crystal VAE's: a normal whose location and scale read z and n). Normalized because each factor
/// is: sum_n p(n | z) int p(v | z, n) dv = 1. log_prob_elements(x) gives log p(v_k | z, n) for the six
/// features (n the row's own count) and log p(n | z) for the seventh; sample() draws n, then v given it;
/// mean() takes the most probable n and the mean of v given it (greedy: the mode of each factor).
class LatticeGivenCount : public dist::Distribution {
 public:
  /// p(v | z, n) for counts n [..., 1] (float, whole numbers 1..N) whose leading axes broadcast against
  /// the codes': a distribution over [..., 6].
  using Conditional = std::function<dist::DistributionPtr(const Tensor& count)>;

  /// count: p(n | z), a categorical with sample shape [..., 1]; lattice: p(v | z, n).
  LatticeGivenCount(dist::DistributionPtr count, Conditional lattice);

  std::string name() const override { return "LatticeGivenCount"; }
  /// [..., 7]: log p(v_k | z, n), k = 1..6, then log p(n | z), n = x[..., 6].
  Tensor log_prob_elements(const Tensor& x) const override;
  /// n ~ p(n | z), then v ~ p(v | z, n) (no gradient); k > 0 prepends a particle axis.
  Tensor sample(int64_t k = 0) const override;
  /// The most probable n, and E[v | z, n] at it.
  Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override;

  const dist::DistributionPtr& count() const { return count_; }
  /// p(v | z, n) for the counts n [..., 1].
  dist::DistributionPtr lattice(const Tensor& count) const { return lattice_(count); }

 private:
  /// v's shape with a last axis of 1 (the count's block beside it).
  static std::vector<int64_t> lead_of(const Tensor& v);

  dist::DistributionPtr count_;
  Conditional lattice_;
};

}  // namespace elbo::model
