#pragma once
// A VAE on crystal structures (data.format = "crystals", rows of data/crystal_rows.h): the decoder's
// sites are the lattice, the atom count, the species of each atom and its fractional coordinates,
// after CDVAE's fields (Xie et al. 2022), each scored by its own likelihood in the trace.
#include "elbo/core/config.h"
#include "elbo/data/schema.h"
#include "elbo/dist/normal.h"
#include "elbo/model/crystal_coordinates.h"
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/mlp.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <utility>
#include <vector>

namespace elbo::model {

/// Architecture of a crystal VAE.
struct CrystalVaeOptions {
  int64_t max_atoms = 20;            ///< N: atoms per cell at most (data.max_atoms; rows are 7 + 4N wide)
  int64_t latent_dim = 16;
  std::vector<int64_t> hidden{128, 128};  ///< widths of the per-atom network, the pooled network and the decoder
  int64_t species_embedding = 16;    ///< width of the learned element embedding
  int64_t harmonics = 3;             ///< H: the encoder reads sin, cos(2 pi h f), h = 1..H
  int64_t images = 3;                ///< K of the wrapped normal (dist/wrapped_normal.h)
  std::string coordinate_likelihood = "wrapped_normal";  ///< wrapped_normal | gaussian (the ablation)
  std::string coordinate_decoder = "independent";       ///< independent | autoregressive (crystal_coordinates.h)
  int64_t coordinate_grid = 1;       ///< G: each atom's autoregressive factor a mixture on a grid of G^3 places
  bool lattice_given_count = false;  ///< the lattice decoded given the atom count (LatticeGivenCount)
  bool origin_shift = false;         ///< training batches get random origins (data.origin_shift)
  nn::Activation activation = nn::Activation::relu;
  double prior_scale = 1.0;

  /// model.* keys, data.max_atoms and data.origin_shift; checks that the schema's "x" is 7 + 4N wide.
  static CrystalVaeOptions from_config(const Config& config, const data::Schema& schema);
};

/// q(z | crystal) = N(mu, sigma^2) from a deep-sets encoder (Zaheer et al. 2017), invariant to the
/// order of the atoms: each atom's features (its element's embedding; sin and cos of 2 pi h f_k,
/// h = 1..H, of its fractional coordinates, periodic in the cell) pass one MLP phi, the masked mean and
/// sum / N over the atoms join the lattice features v and the count, and an MLP rho gives mu and the
/// raw scale (dist::posterior_from_raw). p(z) = N(0, s^2 I).
///
/// p(crystal | z): one MLP from z emits every site's parameters; the sites of the trace:
///  - "lattice": N(v; mu(z), sigma(z)^2) on the six lattice features (data/lattice_map.h: log-Cholesky
///    of the metric, off-diagonals over their row's diagonal): every finite v is a valid lattice, and mu
///    and sigma are bounded smoothly (tanh, two-sided softplus) so that every draw is finite for any z;
///    with lattice_given_count the lattice is decoded given the atom count n (LatticeGivenCount,
///    crystal_lattice.h: p(v, n | z) = p(n | z) N(v; m(z, n), diag s(z, n)^2)):
///      m(z, n) = bound(a(z) + b_n + (log n / 3) (1, 1, 1, 0, 0, 0)),  log s(z, n) = bound(c(z) + d_n),
///    a, c the decoder's outputs, (b_n, d_n) twelve learned offsets per count (a linear map of n's one-hot)
///    and bound the smooth bounds above; the volume exp(v1 + v2 + v3) is then n exp(a1 + a2 + a3 + ...)
///    before the bounds, so z says how much room each atom has and the cell grows with the count;
///  - "count": categorical over 1..N;
///  - "species": per atom slot, categorical over Z = 1..98, masked past the count;
///  - "coords": per atom slot and axis, wrapped normal on the circle (a density on the 3-torus, the
///    cell's periodicity: f and f + 1 are one point) or, for the ablation, a normal on the raw
///    coordinate in [0, 1); masked past the count. With coordinate_decoder = "independent" the
///    coordinates are independent given z; with "autoregressive" atom i's location and scale also
///    read the atoms j < i (AutoregressiveCoordinates): the decoder's (mu_i, s_i)(z) plus a correction
///    g_i = MLP(act(A z + e_i + sum_{j<i} W_j phi(f_j))), phi(f) = sin, cos(2 pi h f), h = 1..H, e_i a
///    learned slot embedding, W_j one matrix per earlier slot (a masked layer, MADE: Germain et al.
///    2015, computed as an exclusive cumulative sum over the slots). With coordinate_grid = G > 1
///    atom i's factor is a mixture of G^3 wrapped normals on the 3-torus (dist/wrapped_normal_grid.h)
///    at the places mu_i + g / G, g in {0..G-1}^3, sharing the scales sigma_i (which start near 1/(2G));
///    mu_i = f_1 + (the location above) for i > 1, so places are offsets from the first atom whatever
///    the origin. Place g's log-weight is l_ig - kappa_i o_ig, l_i, kappa_i >= 0 and the width of o from
///    the same MLP, o_ig how close place g is to the atoms j < i (occupied_grid in crystal_coordinates.h):
///    the mass goes to vacant places, not to taken ones.
/// Atoms are in canonical order (by element, then coordinates), so slot i of the decoder is the i-th
/// atom of that order. likelihood(z) is the dist::Joint of the four over the row layout, so its
/// sample() is a row (slots past the sampled count hold draws no one reads).
class CrystalVaeImpl : public Model {
 public:
  explicit CrystalVaeImpl(const CrystalVaeOptions& options);

  /// With origin_shift and in training mode the batch's crystals first get random origins.
  Trace forward(const Batch& batch, int64_t particles) override;
  Trace forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) override;
  dist::DistributionPtr posterior(const Batch& batch) override;
  dist::DistributionPtr likelihood(const Tensor& z) override;
  Tensor sample_prior(int64_t n) override;
  int64_t latent_dim() const override { return options_.latent_dim; }
  int64_t features() const override;
  std::string describe() const override;

  const CrystalVaeOptions& options() const { return options_; }
  dist::Normal prior() const;

  /// The decoder's four distributions for codes z [..., D]: lattice [..., 6] (with lattice_given_count a
  /// LatticeGivenCount over [..., 7], lattice and count), count [..., 1], species [..., N], coordinates [..., 3N].
  struct Decoded {
    dist::DistributionPtr lattice, count, species, coords;
  };
  Decoded decode(const Tensor& z);

 private:
  void check_rows(const Tensor& x) const;
  /// p(v | z) of the lattice features from the decoder's 12 raw outputs [..., 12] (locations, raw log-scales)
  /// or, with counts n [..., 1] (lattice_given_count), p(v | z, n): the count's offsets added and the lengths'
  /// logs shifted by log(n) / 3 (crystal_vae.h).
  dist::DistributionPtr lattice_given(const Tensor& raw, const Tensor& count) const;
  /// The autoregressive factors of the atoms given codes z [..., D], the decoder's own (mu, raw scale)
  /// [..., 3N] and coordinates f [..., 3N] (atom i reads atoms j < i).
  AutoregressiveCoordinates::Factors coordinates_given(const Tensor& z, const Tensor& loc, const Tensor& raw_scale,
                                                       const Tensor& f);

  CrystalVaeOptions options_;
  torch::nn::Embedding embedding_{nullptr};
  nn::Mlp phi_{nullptr}, rho_{nullptr}, decoder_{nullptr};
  // coordinate_decoder = "autoregressive": A, e, W and the MLP after them (unregistered otherwise).
  torch::nn::Linear atom_code_{nullptr};
  Tensor atom_slot_, atom_previous_;  // [N, width], [N, 6H, width]
  nn::Mlp atom_net_{nullptr};
  Tensor lattice_count_;    // [N, 12] per-count offsets of the lattice's raw outputs (lattice_given_count)
  Tensor prior_log_scale_;  // buffer [latent_dim]
};
TORCH_MODULE(CrystalVae);

}  // namespace elbo::model
