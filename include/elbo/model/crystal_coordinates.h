#pragma once
// Fractional coordinates of a crystal's atoms decoded one atom after another (model.coordinate_decoder =
// "autoregressive" of the crystal VAE, crystal_vae.h): each atom's distribution sees where the atoms
// before it are, so a sampled atom can keep clear of those already placed.
#include "elbo/dist/distribution.h"

#include <functional>
#include <vector>

namespace elbo::model {

using torch::Tensor;

/// p(f | z) over the coordinates of N atoms f [..., 3N] (atom-major, the rows' order), factorized
/// over the atoms in that order:
///   p(f | z) = prod_{i=1..N} p(f_i | z, f_<i),
///   p(f_i | z, f_<i) = sum_{g in {0..G-1}^3} pi_ig prod_{k=1..3} WN(f_ik; mu_ik + g_k / G, sigma_ik),
/// pi, mu, sigma functions of (z, f_<i): each atom's factor a mixture of G^3 wrapped normals on a grid
/// of the 3-torus (dist/wrapped_normal_grid.h), which can put atom i on any of the cell's vacant places
/// and none of the taken ones. With G = 1 each factor is one wrapped normal per axis
/// (dist/wrapped_normal.h; a normal for the gaussian ablation). An autoregressive density (Larochelle
/// & Murray 2011, NADE; Germain et al. 2015, MADE: one network whose connections are masked so that
/// atom i reads only atoms j < i) is normalized for every network, because each factor is. Scoring f takes one call of the conditional (the observed
/// atoms stand in for the earlier ones, "teacher forcing"); sample() takes N calls, atom i drawn given
/// the atoms already drawn, and mean() the same with each atom set to its mode frac(mu_i) (greedy: the
/// mode of each factor, not the joint mode; with G > 1 the mode of the factor's most probable
/// component).
class AutoregressiveCoordinates : public dist::Distribution {
 public:
  /// Every atom's factor: a location and log-scale per axis, and the log-weights of its G^3 places.
  struct Factors {
    Tensor log_weights;     ///< [..., N, G^3], unnormalized (G = 1: ignored)
    Tensor loc, log_scale;  ///< [..., N, 3]
  };
  /// The factors of every atom given coordinates f [..., 3N] whose leading axes broadcast against
  /// `shape`'s; atom i's factor may depend on f only through atoms j < i.
  using Conditional = std::function<Factors(const Tensor& f)>;

  /// shape: [..., 3N] of one sample; wrapped: wrapped normal factors (else normal, G = 1 only);
  /// images: the wrapped normal's K; grid: G.
  AutoregressiveCoordinates(Conditional conditional, std::vector<int64_t> shape, bool wrapped, int64_t images,
                            int64_t grid = 1);

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
  /// The distribution of atoms' points [..., n, 3] from their factors (log_weights [..., n, G^3], loc
  /// and log_scale [..., n, 3]): the grid mixture for G > 1, else one factor per axis.
  dist::DistributionPtr factor(const Factors& factors) const;

  Conditional conditional_;
  std::vector<int64_t> shape_;
  bool wrapped_;
  int64_t images_;
  int64_t grid_;
};

/// How much each place of a grid of candidate places per atom is already taken by the atoms before
/// it. Atom i's candidates are mu_i + g / G, g in {0..G-1}^3 (mu [..., N, 3], G = grid); with the
/// earlier atoms f_j (f [..., 3N]) and a width b_i > 0 per atom (width [..., N]),
///   o_ig = sum_{j<i} exp(-|d_igj|^2 / (2 b_i^2)),  d_igj = (mu_i + g / G - f_j) - round(...),
/// the minimum-image displacement in fractional coordinates; [..., N, G, G, G]. The kernel is a
/// product over the axes, so the sum over j is one contraction of three [..., N, N, G] factors.
/// Subtracted (times a learned kappa_i >= 0) from the candidates' log-weights it lets atom i's factor
/// put its mass "anywhere except where atoms already are", which a cumulative sum of the earlier
/// atoms' features (MADE) represents poorly; the mixture stays normalized (softmax of the weights).
Tensor occupied_grid(const Tensor& mu, int64_t grid, const Tensor& f, const Tensor& width);

}  // namespace elbo::model
