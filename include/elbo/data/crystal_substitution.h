#pragma once
// A training set of crystals made by element substitution on prototype structures (the AFLOW
// prototypes shipped with pymatgen): each prototype's elements are replaced by elements of similar
// radius that share an oxidation state, and the cell is rescaled to the new radii. The results are
// plausible structures, not relaxed by DFT; the prototypes themselves are held out.
#include "elbo/data/crystal.h"

#include <cstdint>
#include <vector>

namespace elbo::data {

/// How the substitution set is drawn.
struct SubstitutionOptions {
  int64_t per_prototype = 10;      ///< distinct substituted variants kept per prototype (at most)
  int64_t attempts = 200;          ///< draws tried per prototype to find them
  double radius_tolerance = 0.15;  ///< |r' - r| <= tolerance * r for a replacement
  int64_t max_atoms = 0;           ///< prototypes with more atoms are left out of both sets (0: no limit)
  double min_contact_ratio = 0.7;  ///< prototypes whose own contact_ratio is lower are not substituted
                                   ///< (an atom pair far closer than its radii, e.g. AFLOW's NiSbS at
                                   ///< 0.37: rescaling to it would blow the cell up)
  uint64_t seed = 0;               ///< draws of prototype i use mix_seed(seed, RngStream::data, i)
};

/// The elements that may replace element z: Z <= 83 without Tc and Pm (stable), a Slater radius
/// within radius_tolerance of z's, and a common oxidation state shared with z; z itself excluded.
/// Ascending atomic numbers; empty for an element without radius or oxidation states (noble gases).
std::vector<int> substitutes(int z, double radius_tolerance);

/// min over atom pairs (periodic images of one atom included) of d_ij / (r_i + r_j), r the
/// element radii: 1 when the tightest contact touches.
double contact_ratio(const Structure& s);

/// The structure with its lattice scaled by 1 / contact_ratio (fractional coordinates unchanged),
/// so that the nearest contact equals the sum of the two atoms' radii and none is closer.
/// Refuses an element without a radius (At, Fr).
Structure rescale_to_radii(Structure s);

/// The substituted training set and the held-out prototypes.
struct SubstitutionSet {
  std::vector<Structure> train;     ///< substituted, rescaled; named "<prototype name>:<formula>"
  std::vector<Structure> held_out;  ///< the prototypes within max_atoms, unchanged
  int64_t over_max_atoms = 0;       ///< prototypes left out for their size
  int64_t without_substitute = 0;   ///< prototypes none of whose elements has a substitute
  int64_t crowded = 0;              ///< prototypes below min_contact_ratio (held out, not substituted)
};

/// For every prototype within max_atoms and at least min_contact_ratio: up to per_prototype distinct element maps (each element
/// to itself or one of its substitutes, one-to-one, not all to themselves), drawn uniformly with
/// the prototype's seed; each applied and rescaled (rescale_to_radii). Both sets are in canonical
/// atom order (canonical()); sources name the prototype.
SubstitutionSet substitution_set(const std::vector<Structure>& prototypes, const SubstitutionOptions& options);

}  // namespace elbo::data
