#pragma once
// Crystal structures: a periodic unit cell (lattice), the species of its atoms and their
// fractional coordinates; geometry in plain double precision (std::array), tensors only for the
// padded batch a model reads.
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace elbo::data {

using Vec3 = std::array<double, 3>;
/// A lattice: rows are the cell vectors a, b, c in Angstrom (pymatgen's Lattice.matrix, ASE's cell).
using Mat3 = std::array<Vec3, 3>;

/// One crystal: atom i of species species[i] (atomic number) sits at frac[i] (fractional
/// coordinates, cartesian = frac * lattice, i.e. sum_k frac[k] * lattice[k]).
struct Structure {
  Mat3 lattice{};
  std::vector<int> species;
  std::vector<Vec3> frac;
  std::string name;    ///< e.g. the CIF data block or the prototype's AFLOW label
  std::string source;  ///< where it was read, "file.cif:12", for messages
  int64_t size() const { return static_cast<int64_t>(species.size()); }
};

/// The six cell parameters: lengths in Angstrom, angles in degrees (alpha between b and c,
/// beta between a and c, gamma between a and b).
struct LatticeParameters {
  double a = 0, b = 0, c = 0, alpha = 0, beta = 0, gamma = 0;
};

/// The lattice with these parameters in the standard orientation (ASE's cellpar_to_cell): a along
/// x, b in the xy plane, c_z > 0: a = (a, 0, 0), b = (b cos g, b sin g, 0),
/// c = (c cos be, c (cos al - cos be cos g) / sin g, sqrt(c^2 - c_x^2 - c_y^2)). Cosines of exact
/// 90 degree angles are exactly 0. Throws std::invalid_argument for a non-positive length, an
/// angle outside (0, 180) or angles that span no volume (e.g. alpha + beta < gamma).
Mat3 lattice_from_parameters(const LatticeParameters& p);

/// The parameters of a lattice (row lengths and the angles between rows).
LatticeParameters lattice_parameters(const Mat3& lattice);

/// det(lattice): the cell volume in A^3, negative for a left-handed cell.
double determinant(const Mat3& m);
/// |det(lattice)|.
double volume(const Mat3& lattice);
/// The inverse matrix; throws std::invalid_argument for a singular one.
Mat3 inverse(const Mat3& m);
/// frac * lattice (a row vector times the matrix).
Vec3 cartesian(const Mat3& lattice, const Vec3& frac);
/// cart * inverse(lattice).
Vec3 fractional(const Mat3& lattice, const Vec3& cart);
/// u . v, u x v and the Euclidean length.
double dot(const Vec3& u, const Vec3& v);
Vec3 cross(const Vec3& u, const Vec3& v);
double norm(const Vec3& v);

/// x - floor(x) in [0, 1); values within 1e-10 below 1 (rounding of -1e-17 + 1) give 0.
double wrap_unit(double x);
/// wrap_unit of each coordinate.
Vec3 wrap_unit(const Vec3& frac);

/// The spacings of the lattice planes (d_100, d_010, d_001) = volume / |b x c|, ...: the length
/// of a fractional step of 1 along axis k measured normal to the other two axes.
Vec3 plane_spacings(const Mat3& lattice);

/// Minimum-image distances in one lattice: min over integer n of |(df + n) * lattice| for a
/// fractional difference df = f_j - f_i. Exact for any cell however skewed: the search runs in an
/// LLL-reduced basis R of the same lattice (Lenstra, Lenstra, Lovasz 1982; delta = 3/4), where
/// |(w + m) * R| >= |w_k + m_k| d_k (d_k: R's plane spacings), so only the m_k with
/// |w_k + m_k| d_k <= r0 are tried, r0 the length of the nearest image found first.
class MinimumImage {
 public:
  /// Throws std::invalid_argument for a lattice that is not finite or spans no volume.
  explicit MinimumImage(const Mat3& lattice);
  /// The minimum-image distance of df. With exclude_zero and integer df (an atom and its own
  /// images) the zero vector is skipped: the shortest nonzero lattice vector.
  double distance(const Vec3& df, bool exclude_zero = false) const;
  const Mat3& reduced_basis() const { return reduced_; }

 private:
  Mat3 lattice_, reduced_, reduced_inverse_;
  Mat3 mu_{};                 // Gram-Schmidt coefficients of reduced_'s rows
  Vec3 gram_schmidt_sq_{};    // |b*_j|^2
};

/// MinimumImage(lattice).distance(df, exclude_zero).
double minimum_image_distance(const Mat3& lattice, const Vec3& df, bool exclude_zero = false);

/// The shortest nonzero lattice vector's length (an atom's distance to its own images).
double shortest_lattice_vector(const Mat3& lattice);

/// [N x N] minimum-image distances between atoms i != j, row-major; 0 on the diagonal (as
/// pymatgen's Structure.distance_matrix).
std::vector<double> distance_matrix(const Structure& s);

/// The smallest distance between two atoms, periodic images of the same atom included (so a
/// one-atom cell gives its shortest lattice vector). Refuses an empty structure.
double min_interatomic_distance(const Structure& s);

/// The same structure with the atoms in canonical order: by atomic number, then by the wrapped
/// coordinates (x, then y, then z) in [0, 1); coordinates are wrapped. Two listings of one
/// structure that differ by atom order (and by whole cells) give the same canonical form.
Structure canonical(Structure s);

/// The structure with its origin moved: every coordinate f -> wrap(f + shift). The crystal is
/// the same (a global translation); models trained on shifted copies learn that (augmentation).
/// The atom order is kept: call canonical() to re-sort.
Structure shift_origin(Structure s, const Vec3& shift);

/// shift_origin by a shift drawn uniformly from [0, 1)^3 with std::mt19937_64(seed).
Structure random_origin_shift(Structure s, uint64_t seed);

/// The chemical formula in order of atomic number, counts after symbols, 1 omitted: "NaCl",
/// "Na4Cl4" with reduce = false for the cell's 4 formula units.
std::string formula(const Structure& s, bool reduce = false);

/// Mass density in g/cm^3: rho = sum_i m(Z_i) / (N_A V) = 1.66053906660 sum_i m(Z_i) [u] / V [A^3]
/// (1 u / 1 A^3 = 1e24 / N_A g/cm^3, N_A = 6.02214076e23 / mol, CODATA 2018), m from the element table
/// (elements.h). Rock salt, a = 5.64 A, 4 NaCl per cell: 2.164 g/cm^3. Throws std::invalid_argument for
/// an empty structure, a cell of volume <= 0 or an unknown element.
double mass_density(const Structure& s);

/// Structures padded to max_atoms atoms for a model (Xie et al. 2022, CDVAE, encode the same
/// fields: lattice, atom count, species, fractional coordinates).
struct CrystalBatch {
  torch::Tensor lattice;     ///< [B, 3, 3] rows a, b, c (Angstrom)
  torch::Tensor parameters;  ///< [B, 6] a, b, c (Angstrom), alpha, beta, gamma (degrees)
  torch::Tensor count;       ///< [B] int64 atoms per cell
  torch::Tensor species;     ///< [B, max_atoms] int64 atomic numbers, 0 past the count
  torch::Tensor frac;        ///< [B, max_atoms, 3] fractional coordinates in [0, 1), 0 past the count
  torch::Tensor mask;        ///< [B, max_atoms] 1 for an atom, 0 for padding
  int64_t size() const { return count.defined() ? count.size(0) : 0; }
};

/// The structures in their given atom order, padded to max_atoms (coordinates wrapped). Floating
/// fields have `dtype` (float32 or float64). Refuses an empty structure and one with more than
/// max_atoms atoms, naming its source and name.
CrystalBatch pad_structures(const std::vector<Structure>& structures, int64_t max_atoms,
                            torch::Dtype dtype = torch::kFloat32);

/// The structures of a batch (atoms where mask = 1 and species > 0), named prefix1, prefix2, ...
std::vector<Structure> unpad_structures(const CrystalBatch& batch, const std::string& prefix = "structure");

/// Every coordinate of a [B, N, 3] tensor shifted by its structure's row of shift [B, 3] and
/// wrapped into [0, 1) (the tensor form of shift_origin, for augmenting a batch).
torch::Tensor shift_coordinates(const torch::Tensor& frac, const torch::Tensor& shift);

}  // namespace elbo::data
