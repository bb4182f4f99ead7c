#pragma once
// The renormalization-group view of a model of lattice fields (data.format = "lattice"): which
// Fourier shells its reconstructions keep, the two-point function of its reconstructions and samples,
// its code against the lowest Fourier modes, and block-spin fields for comparison.
#include "elbo/core/json.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"

#include <string>

namespace elbo::run {

struct LatticeChecks {
  Json json;
  std::string table;
  report::Section section;
};

/// For test fields x [N, L * L] (image {1, L, L}; `spins`: Ising data stored as {0, 1}, read as
/// s = 2 x - 1, reconstructions as 2 E[x] - 1): power per Fourier shell of the inputs, of the
/// reconstructions E[x | z = E_q[z | x]] and their ratio; G(r) of inputs, reconstructions and prior
/// samples x ~ p(x | z), z ~ p(z); the canonical correlations of E_q[z | x] with the lowest Fourier modes
/// of the inputs; the shell spectra of block-spin fields (factors 2, 4, 8 dividing L: majority rule for
/// spins, block averages otherwise). Uses at most the first 1000 fields; seeded.
LatticeChecks check_lattice(model::Model& model, const data::Dataset& test, bool spins, uint64_t seed);

}  // namespace elbo::run
