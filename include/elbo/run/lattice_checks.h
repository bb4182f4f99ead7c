#pragma once
// The renormalization-group view of a model of lattice fields (data.format = "lattice"): which
// Fourier shells its reconstructions keep, the two-point function of its reconstructions and samples,
// its code against the lowest Fourier modes, and block-spin fields for comparison.
#include "elbo/core/config.h"
#include "elbo/core/json.h"
#include "elbo/diag/evidence.h"
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

/// Whether lattice data are spins: data.lattice_model = "ising", or "file" with every value 0 or 1.
bool spin_data(const data::Dataset& data, const Config& config);

/// For test fields x [N, L * L] (image {1, L, L}; spin data (data.lattice_model = "ising", or "file" with every
/// value 0 or 1) stored as {0, 1}, read as s = 2 x - 1, reconstructions as 2 E[x] - 1):
///  - power per Fourier shell of the inputs and of the reconstructions E[x | z = E_q[z | x]], and the fraction
///    kept with its Monte Carlo error (diag::shell_power_ratio); G(r) of inputs, reconstructions and prior samples
///    x ~ p(x | z), z ~ p(z); the canonical correlations of E_q[z | x] with the lowest Fourier modes; the shell
///    spectra of block-spin fields (data.lattice_blocks, or the factors 2, 4, 8 that divide L: majority rule for
///    spins, block averages otherwise);
///  - Gaussian free field data (exact references): the true log-density of each field, the closed-form optimum
///    of a linear decoder with d = latent_dim latents (probabilistic PCA: its expected log-likelihood and the
///    fraction of each shell its reconstructions keep) and, with `evidence` (per-example ELBO and IWAE of the
///    same test set, in order), the model's bounds minus the true log-density on the same fields, mean and SE;
///  - spins: the magnetization m = mean_x s_x of each field (<|m|> and Var |m|, whose L^2 / T is the finite-size
///    susceptibility), the correlation of every latent mean with m, and for the latent most correlated, <|mu|>
///    and sd(mu) (order-parameter-like statistics for a temperature scan).
/// Uses at most the first 1000 fields; seeded.
LatticeChecks check_lattice(model::Model& model, const data::Dataset& test, const Config& config, uint64_t seed,
                            const diag::Evidence* evidence = nullptr);

}  // namespace elbo::run
