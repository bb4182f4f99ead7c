#pragma once
// Six unconstrained numbers <-> a crystal lattice: the parameterization a model's lattice site
// lives in, valid (positive definite, positive volume) for every real output.
#include "elbo/data/crystal.h"

#include <torch/types.h>

#include <array>

namespace elbo::data {

/// Six real numbers standing for a lattice.
using LatticeFeatures = std::array<double, 6>;

/// A lattice's six features: its metric (Gram) matrix G = M M^T (M's rows a, b, c) has the Cholesky
/// factor L (lower triangular, positive diagonal; L's rows are the cell in the standard orientation
/// of lattice_from_parameters, a along x, b in the xy plane), and
///   v = (log L11, log L22, log L33, L21 / L22, L31 / L33, L32 / L33).
/// Why this map: every v in R^6 gives L with a positive diagonal, so G = L L^T is positive definite
/// and the volume exp(v0 + v1 + v2) is positive: a decoder's output is a valid lattice by construction,
/// with no constraint to enforce or sample to reject (unlike lengths and angles, where three valid
/// angles need not span a volume). It is a bijection (the log-Cholesky parameterization of Pinheiro &
/// Bates 1996, off-diagonals divided by their row's diagonal), so a Gaussian on v is a proper
/// likelihood of the lattice; and the cell's size, which grows with its atom count, moves only the
/// three logs while the last three, scale-free, hold its shape (L21 / L22 = cot gamma).
/// A left-handed M (det < 0) gives the features of its mirror image, the same G: call right_handed()
/// on the structure first to keep its atoms where they are. Throws std::invalid_argument for a lattice
/// that is not finite or spans no volume.
LatticeFeatures lattice_features(const Mat3& lattice);

/// The lattice of six features: rows (L11, 0, 0), (L21, L22, 0), (L31, L32, L33) as above, for any
/// finite v (each L_ii = exp(v_i) > 0; volume exp(v0 + v1 + v2), infinite only past exp's range).
Mat3 lattice_from_features(const LatticeFeatures& v);

/// lattice_from_features of tensors: v [..., 6] -> lattices [..., 3, 3] (rows a, b, c), differentiable.
torch::Tensor lattice_from_features(const torch::Tensor& v);

/// Lengths a, b, c (Angstrom) and angles alpha, beta, gamma (degrees) of lattices [..., 3, 3]: [..., 6].
torch::Tensor lattice_parameters(const torch::Tensor& lattice);

/// The same crystal described by a right-handed cell: when det(lattice) < 0 the third cell vector c
/// is negated and each atom's third fractional coordinate f_c becomes wrap(-f_c) (an integer change
/// of basis with determinant -1: every atom stays where it is).
Structure right_handed(Structure s);

}  // namespace elbo::data
