#pragma once
// Crystals as rows of a Dataset (data.format = "crystals"): one flat float row per structure, so
// splits, batches, subsets and shuffling work unchanged, and a typed view of a batch for the model.
#include "elbo/core/config.h"
#include "elbo/data/crystal.h"
#include "elbo/data/dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

/// Where each field sits in a row of max_atoms = N atoms (7 + 4N values):
///   [0, 6)            the lattice features v (data/lattice_map.h)
///   6                 the atom count n, 1..N
///   [7, 7 + N)        atomic numbers of atoms 1..N, 0 past n
///   [7 + N, 7 + 4N)   fractional coordinates, atom-major (x1 y1 z1 x2 ...) in [0, 1), 0 past n
/// The atoms are in canonical order (canonical(): by atomic number, then coordinates).
struct CrystalRowLayout {
  int64_t max_atoms = 0;
  static constexpr int64_t lattice = 0, count = 6, species = 7;
  int64_t frac() const { return species + max_atoms; }
  int64_t width() const { return species + 4 * max_atoms; }
};

/// The rows of structures: each made right-handed (right_handed()), put in canonical order and
/// padded (pad_structures: refuses an empty structure or one of more than max_atoms atoms, naming
/// its source). [S, 7 + 4N] of `dtype`.
torch::Tensor crystal_rows(const std::vector<Structure>& structures, int64_t max_atoms,
                           torch::Dtype dtype = torch::kFloat32);

/// A data set of crystal_rows (float32) named `name`.
Dataset crystal_dataset(const std::vector<Structure>& structures, int64_t max_atoms, const std::string& name);

/// The typed view of rows [B, 7 + 4N]: the lattice (lattice_from_features), its parameters, count,
/// species, frac and the atom mask (CrystalBatch), floating fields in the rows' dtype. Refuses rows
/// of another width and counts outside 1..N.
CrystalBatch crystal_batch(const torch::Tensor& rows, int64_t max_atoms);

/// The structures of rows (e.g. decoded samples), named prefix1, prefix2, ...: the first `count`
/// atoms of each, the lattice from its features in double precision. Refuses a count outside 1..N
/// or an atomic number outside 1..98 among the first `count` atoms, naming the row.
std::vector<Structure> row_structures(const torch::Tensor& rows, int64_t max_atoms,
                                      const std::string& prefix = "structure");
/// The same for rows of a run's crystal data (data.max_atoms wide).
std::vector<Structure> row_structures(const Config& config, const torch::Tensor& rows, const std::string& prefix);

/// Rows with each crystal's origin moved by its row of shift [B, 3] (every atom f -> wrap(f + s):
/// the same crystal) and its atoms put back in canonical order: the tensor form of
/// canonical(shift_origin(s, shift)), for augmenting a batch.
torch::Tensor shift_rows(const torch::Tensor& rows, const torch::Tensor& shift, int64_t max_atoms);

}  // namespace elbo::data
