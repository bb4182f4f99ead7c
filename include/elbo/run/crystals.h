#pragma once
// Generated crystals out of a crystal run (model.type = "crystal"): prior samples and
// reconstructions as structures, each measured (formula, volume per atom, minimum interatomic
// distance, validity), written as CIF (and POSCAR) files with a table.
#include "elbo/core/config.h"
#include "elbo/data/crystal.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace elbo::run {

/// One structure, measured.
struct CrystalCheck {
  std::string name;
  std::string formula;         ///< data::formula, the cell's (not reduced)
  int64_t atoms = 0;
  double volume = 0;           ///< A^3
  double volume_per_atom = 0;  ///< A^3
  double min_distance = 0;     ///< A: data::min_interatomic_distance (periodic images of one atom included)
  /// Structural validity as CDVAE counts it (Xie et al. 2022): every minimum-image interatomic distance
  /// > 0.5 A and the cell volume > 0.1 A^3.
  bool valid = false;
};

CrystalCheck check_crystal(const data::Structure& s);

/// CSV: name,formula,atoms,volume,volume_per_atom,min_distance,valid.
std::string crystal_table_csv(const std::vector<CrystalCheck>& checks);

/// An exact property of each crystal row (rows of data/crystal_rows.h): "volume_per_atom" (A^3 per atom)
/// , "number_density" (atoms per nm^3, 1000 / volume_per_atom) or "mass_density" (g/cm^3, data::mass_density);
/// [n] double. Throws std::invalid_argument
/// for another name, listing these (undefined rows: only the name is checked).
torch::Tensor crystal_property(const std::string& property, const torch::Tensor& rows, int64_t max_atoms);

/// Prior samples: z ~ p(z) (seeded, the evaluation stream), decoded into structures named sample1..n
/// (data::row_structures): one draw of p(crystal | z) each, or with `most_probable` its most probable
/// count and elements and the location of every lattice feature and coordinate.
std::vector<data::Structure> sample_crystals(model::Model& model, const Config& config, int64_t n, uint64_t seed,
                                             bool most_probable = false);

/// Prior samples conditioned on structural validity (check_crystal: every minimum-image distance > 0.5 A,
/// volume > 0.1 A^3), by rejection: pairs (z, x), z ~ p(z) and x one draw of p(crystal | z) (or its most
/// probable structure), are drawn in blocks (seeded, the evaluation stream) and the valid ones kept until n
/// are, so the kept structures are draws of p(crystal | valid) under the model, not of p(crystal). The
/// acceptance rate accepted / drawn estimates the unconditioned validity. A sampler's option, not the
/// model's: `elbo sample --valid-only` says so and prints both.
struct ValidCrystalSamples {
  std::vector<data::Structure> structures;  ///< n valid structures, named sample1..n in the order accepted
  int64_t drawn = 0;                        ///< pairs (z, x) drawn to keep n
};

/// Throws std::invalid_argument when more than max_draws pairs would be needed (naming the rate so far).
ValidCrystalSamples sample_valid_crystals(model::Model& model, const Config& config, int64_t n, uint64_t seed,
                                          bool most_probable = false, int64_t max_draws = 0);

/// How well a crystal run reconstructs structures x from E_q[z | x], decoded as the most probable
/// count and species and the location of each coordinate and lattice feature.
struct CrystalReconstruction {
  std::vector<data::Structure> structures;  ///< the decoded reconstructions, named after their inputs
  int64_t examples = 0;
  int64_t count_matches = 0;    ///< atom count right
  int64_t species_matches = 0;  ///< count and every atom's element right (canonical order)
  /// Over the species matches: the mean over atoms of the minimum-image distance (A, in the input's
  /// lattice) between the input's and the reconstruction's fractional position.
  double coordinate_error = 0;
  /// Every example, species and atom order aside: the symmetric Chamfer distance (A, in the input's
  /// lattice) between input and reconstructed positions, (mean_i min_j d(x_i, y_j) + mean_j min_i
  /// d(y_j, x_i)) / 2 with minimum-image d, averaged over the examples.
  double chamfer_error = 0;
  double length_error = 0;  ///< mean |a' - a| / a over the three lengths, every example
  double angle_error = 0;   ///< mean |alpha' - alpha| in degrees over the three angles, every example
};

/// Reconstructs every row of `data` (rows of data/crystal_rows.h) in blocks.
CrystalReconstruction reconstruct_crystals(model::Model& model, const Config& config, const data::Dataset& data);

/// Writes DIR/NAME.cif (data::format_cif) and, with `poscar`, DIR/NAME.poscar for each structure
/// and DIR/TABLE (crystal_table_csv of their checks); returns the checks.
std::vector<CrystalCheck> write_crystals(const std::vector<data::Structure>& structures, const std::string& dir,
                                         const std::string& table, bool poscar);

/// "valid V / N (every distance > 0.5 A, volume > 0.1 A^3); volume per atom mean ± sd; minimum distance mean ± sd".
std::string crystal_summary(const std::vector<CrystalCheck>& checks);

}  // namespace elbo::run
