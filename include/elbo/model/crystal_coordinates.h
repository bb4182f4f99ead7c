#pragma once
// Fractional coordinates of a crystal's atoms decoded one atom after another (model.coordinate_decoder =
// "autoregressive" of the crystal VAE, crystal_vae.h): each atom's distribution sees where the atoms
// before it are, so a sampled atom can keep clear of those already placed.
#include "elbo/dist/distribution.h"

#include <functional>
#include <utility>
#include <vector>

namespace elbo::model {

using torch::Tensor;

/// p(f | z) over the coordinates of N atoms f [..., 3N] (atom-major, the rows' order), factorized
/// over the atoms in that order:
///   p(f | z) = prod_{i=1..N} prod_{k=1..3} p(f_ik; mu_ik(z, f_<i), sigma_ik(z, f_<i)),
/// each factor a wrapped normal on the circle (dist/wrapped_normal.h; a normal for the gaussian
/// ablation). An autoregressive density (Larochelle & Murray 2011, NADE; Germain et al. 2015, MADE:
/// one network whose connections are masked so that atom i reads only atoms j < i) is normalized for
/// every network, because each factor is. Scoring f takes one call of the conditional (the observed
/// atoms stand in for the earlier ones, "teacher forcing"); sample() takes N calls, atom i drawn given
/// the atoms already drawn, and mean() the same with each atom set to its mode frac(mu_i) (greedy: the
/// mode of each factor, not the joint mode).
class AutoregressiveCoordinates : public dist::Distribution {
 public:
  /// (mu, log sigma) [..., 3N] of every coordinate given coordinates f [..., 3N] whose leading axes
  /// broadcast against `shape`'s; atom i's six values may depend on f only through atoms j < i.
  using Conditional = std::function<std::pair<Tensor, Tensor>(const Tensor& f)>;

  /// shape: [..., 3N] of one sample; wrapped: wrapped normal factors (else normal); images: the
  /// wrapped normal's K.
  AutoregressiveCoordinates(Conditional conditional, std::vector<int64_t> shape, bool wrapped, int64_t images);

  std::string name() const override { return wrapped_ ? "AutoregressiveWrappedNormal" : "AutoregressiveNormal"; }
  /// log p(f_ik | z, f_<i) [..., 3N]: one call of the conditional on x.
  Tensor log_prob_elements(const Tensor& x) const override;
  /// Ancestral sampling, atom by atom (no gradient); k > 0 prepends a particle axis.
  Tensor sample(int64_t k = 0) const override;
  /// Greedy decoding: atom i at the mode frac(mu_i) of its factor given atoms 1..i-1 at theirs.
  Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override { return shape_; }

  int64_t atoms() const { return shape_.back() / 3; }

 private:
  /// Atom after atom: each from its factor given the atoms before, drawn or at its mode.
  Tensor decode(int64_t k, bool draw) const;
  dist::DistributionPtr factor(const Tensor& loc, const Tensor& log_scale) const;

  Conditional conditional_;
  std::vector<int64_t> shape_;
  bool wrapped_;
  int64_t images_;
};

}  // namespace elbo::model
