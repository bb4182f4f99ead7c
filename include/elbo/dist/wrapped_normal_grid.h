#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// A mixture of wrapped normals on the D-torus [0, 1)^D whose G^D components sit on a grid shifted by
/// loc and share one scale per axis: for a point x in [0, 1)^D,
///   p(x) = sum_{g in {0..G-1}^D} pi_g prod_{d=1..D} WN(x_d; loc_d + g_d / G, sigma_d^2),
///   log p(x) = logsumexp_g (log_softmax(log_weights)_g + sum_d log WN(x_d; loc_d + g_d / G, sigma_d)),
/// all in log space (a finite mixture, McLachlan & Peel 2000; the wrapped normal of
/// dist/wrapped_normal.h per axis). With sigma_d below the spacing 1/G its mass sits on the places whose
/// weights are high and leaves the others empty, so it can say "on any of these sites, not on those"
/// (e.g. the vacant sites of a crystal's cell, crystal_coordinates.h); with sigma_d above it, a smooth
/// density on the torus. Each axis has only G distinct component densities, so log p costs D G
/// wrapped normals and one logsumexp over G^D, not D G^D wrapped normals.
///
/// Parameters: log_weights [..., G^D] (unnormalized, g in row-major order: g_1 slowest), loc and
/// log_scale [..., D]; one sample is a point [..., D]. The axes of a point are not independent, so
/// log_prob_elements(x) [..., D] gives each of a point's D entries log p(x) / D: sums over whole
/// points (log_prob, masks covering whole points) are exact. G = 1 is one wrapped normal per axis.
/// Sampling picks a component g ~ pi, then x_d = frac(loc_d + g_d / G + sigma_d eps_d); not
/// reparameterized (the component is discrete). mean() is the mode of the most probable component,
/// frac(loc + g* / G) (the mixture's own mode can lie elsewhere where components overlap).
class WrappedNormalGrid : public Distribution {
 public:
  /// grid = G >= 1 places per axis; images = K >= 1 of each wrapped normal.
  WrappedNormalGrid(Tensor log_weights, Tensor loc, Tensor log_scale, int64_t grid, int64_t images = 3);

  std::string name() const override { return "WrappedNormalGrid"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  /// log p(x) [...] of points x [..., D].
  Tensor log_prob_sum(const Tensor& x) const override;
  /// Component, then wrapped normal draw (no gradient); k > 0 prepends a particle axis.
  Tensor sample(int64_t k = 0) const override;
  Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override { return loc_.sizes().vec(); }

  int64_t grid() const { return grid_; }
  /// log pi_g [..., G^D] (normalized).
  const Tensor& log_weights() const { return log_weights_; }
  /// Component g's location loc + g / G [..., D] for component indices g [...] (0..G^D - 1).
  Tensor component_loc(const Tensor& index) const;

 private:
  Tensor log_weights_;  // normalized
  Tensor loc_;
  Tensor log_scale_;
  int64_t grid_;
  int64_t images_;
};

}  // namespace elbo::dist
