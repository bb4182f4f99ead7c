#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace elbo::data {

/// Lattice field generators on the L x L periodic square lattice (data.format = "lattice"):
/// exact samples of the massive Gaussian free field and Wolff-cluster samples of the 2-D
/// Ising model, physics data sets whose spectra and thermodynamics are known exactly.

/// The GFF power spectrum on the Fourier grid k = 2 pi (a, b) / L, a (rows), b (columns)
/// in 0..L-1 (torch::fft order):
///   S(k) = 1 / (m^2 + 4 sin^2(k_x / 2) + 4 sin^2(k_y / 2)),
/// the Fourier symbol of (-Delta + m^2)^{-1}, Delta the nearest-neighbour lattice Laplacian.
/// [L, L] float64. Refuses L < 2 (data.lattice_size) and mass <= 0 (data.lattice_mass).
torch::Tensor gff_spectrum(int64_t L, double mass);

/// n independent exact samples of the massive Gaussian free field, [n, L, L] float64, with
/// covariance (-Delta + m^2)^{-1} (Glimm & Jaffe, "Quantum Physics", ch. 6; lattice form):
///   E[phi_x phi_y] = G(x - y) = (1/L^2) sum_k S(k) e^{i k (x - y)}.
/// Sampled in Fourier space: w real white noise (iid N(0, 1) per site), W = fft2(w) (unnormalized,
/// W(k) = sum_x w_x e^{-ikx}, so E[W(k) conj W(k')] = L^2 delta_{kk'}), and
///   phi = ifft2(sqrt(S) W),  phi_x = (1/L^2) sum_k sqrt(S(k)) W(k) e^{ikx},
/// real because S(k) = S(-k) and W(-k) = conj W(k); then
///   E[phi_x phi_y] = (1/L^4) sum_{k,k'} sqrt(S(k) S(k')) L^2 delta_{kk'} e^{i(kx - k'y)} = G(x - y).
/// Hence fft2(phi)(k) = sqrt(S(k)) W(k): the periodogram |fft2(phi)(k)|^2 / (L^2 S(k)) is Exp(1)
/// (chi^2_2 / 2) at complex modes and chi^2_1 at the self-conjugate ones (2k = 0 mod 2 pi).
/// Deterministic in `seed`. Refuses n < 1, L < 2, mass <= 0 naming the data.lattice_* key.
torch::Tensor gaussian_free_field(int64_t n, int64_t L, double mass, uint64_t seed);

/// T_c = 2 / ln(1 + sqrt 2) = 2.269185... of the 2-D Ising model with J = 1 (Onsager 1944).
double ising_critical_temperature();

/// Samples of the 2-D Ising model and how they were thinned.
struct IsingSamples {
  torch::Tensor spins;    ///< [n, L, L] float32, -1 or +1
  double tau_abs_m = 0;   ///< integrated autocorrelation time of |m| in cluster flips (production chain,
                          ///< its first 2^22 flips)
  double pilot_tau = 0;   ///< the same from the pilot run that chose burn_in and thinning (0 if none ran)
  double mean_cluster_size = 0;  ///< sites per Wolff cluster, production chain
  int64_t burn_in = 0;    ///< cluster flips discarded before the first sample
  int64_t thinning = 0;   ///< cluster flips between samples
};

/// n configurations of the 2-D Ising model H = -sum_<xy> s_x s_y (J = 1, no field, periodic
/// L x L), Boltzmann weight exp(-H / T), from one Markov chain of Wolff cluster flips
/// (U. Wolff, Phys. Rev. Lett. 62, 361 (1989)): a cluster grows from a uniformly chosen site
/// through aligned neighbours, each bond added with p = 1 - exp(-2 / T), and is flipped.
/// The chain starts from independent random spins. burn_in / thinning < 0: chosen from a
/// pilot run's integrated autocorrelation time tau of |m| (in cluster flips) as
/// burn_in = ceil(20 tau) + 100 and thinning = max(1, ceil(2 tau)). Deterministic in `seed`.
/// Refuses n < 1, L < 2 (data.lattice_size), temperature <= 0 (data.lattice_temperature).
IsingSamples ising_wolff(int64_t n, int64_t L, double temperature, uint64_t seed, int64_t burn_in = -1,
                         int64_t thinning = -1);

/// Integrated autocorrelation time tau = 1/2 + sum_{t=1}^{W} rho(t) of a series (Sokal's
/// convention: Var(mean) ~ 2 tau Var(x) / N), with Sokal's automatic window: the smallest W
/// with W >= 6 tau(W) (A. Sokal, "Monte Carlo Methods in Statistical Mechanics", 1996).
/// rho from one FFT. 0.5 for a constant or one-element series.
double integrated_autocorrelation_time(const std::vector<double>& series);

/// A lattice data set: `n` configurations of data.lattice_model ("gff" or "ising") flattened
/// to x [n, L*L] float32 with image = {1, L, L}. GFF: the raw field values (model.likelihood =
/// "gaussian"); Ising: spins mapped to {0, 1} as (s + 1) / 2 (Bernoulli likelihood).
Dataset make_lattice(const std::string& model, int64_t n, int64_t L, double mass, double temperature, uint64_t seed);

/// The training (`test` false) or test configurations of a built-in lattice data set as the data.lattice_* keys
/// describe it: data.lattice_train or data.lattice_test configurations from independent streams of
/// data.lattice_seed, the same for every train.seed. Refuses data.lattice_model = "file" (nothing to generate).
Dataset lattice_split(const Config& config, bool test);

}  // namespace elbo::data
