#pragma once
// Statistics of real fields on an L x L periodic lattice (fields [N, L, L]; a data set's rows [N, L*L] are
// x.view({N, L, L})): Fourier power by shells of |k|, the connected two-point function, block-spin
// coarse-graining, canonical correlations between feature sets, and the closed-form probabilistic-PCA optimum
// of a stationary Gaussian field, against which a VAE's kept long-wavelength modes can be measured.
//
// Conventions: phi_hat(k) = sum_x phi(x) exp(-i k.x) (torch::fft::fft2, unnormalized), k = 2 pi (a, b) / L
// with integer a, b taken in (-L/2, L/2]; site x = (row, column), a goes with the row. Results are float64.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace elbo::diag {

/// Mean power per mode, P(k) = (1/N) sum_n |phi_hat_n(k)|^2 / L^2, as [L, L] in torch::fft's index order
/// (index a means wave number a or a - L). For a stationary field P(k) estimates the spectrum
/// S(k) = sum_r C(r) exp(-i k.r), which is also the covariance matrix's eigenvalue of the Fourier mode k
/// (a periodic stationary covariance is circulant). Parseval: sum_k P(k) = (1/N) sum_n sum_x phi_n(x)^2.
torch::Tensor mode_power(const torch::Tensor& fields);

/// Power binned by shells of |k|: mode (a, b) lies in shell s = round(sqrt(a^2 + b^2)), i.e. shells of width
/// 2 pi / L centred on |k| = 2 pi s / L. Empty shells are left out.
struct ShellSpectrum {
  torch::Tensor shell;  ///< [S] int64: s
  torch::Tensor k;      ///< [S] the shell's centre 2 pi s / L
  torch::Tensor power;  ///< [S] mean of P(k) over the shell's modes
  torch::Tensor modes;  ///< [S] int64: number of modes (a, b) in the shell
};
ShellSpectrum power_by_shell(const torch::Tensor& fields);

/// The same shells for any per-mode values [..., L, L] (torch::fft order): `power` is their mean over each
/// shell's modes, [..., S]. power_by_shell(fields) = shell_means(mode_power(fields)).
ShellSpectrum shell_means(const torch::Tensor& per_mode);

/// The fraction of each shell's power that reconstructions of the same fields keep, with its Monte Carlo error:
/// per field n and shell s the power a_ns of the reconstruction and b_ns of the input; r_s = mean_n a_ns /
/// mean_n b_ns (= shell_ratio of their spectra) and, by the delta method, se_s = sd_n(a_ns - r_s b_ns) /
/// (sqrt(N) mean_n b_ns). Fields [N, L, L] both; se is NaN for N = 1.
struct ShellRatio {
  ShellSpectrum reconstruction;  ///< power_by_shell of the reconstructions
  ShellSpectrum input;           ///< power_by_shell of the inputs
  torch::Tensor ratio;           ///< [S]
  torch::Tensor se;              ///< [S]
};
ShellRatio shell_power_ratio(const torch::Tensor& reconstructions, const torch::Tensor& inputs);

/// log N(phi; 0, C) of each field [N, L, L] under the stationary periodic Gaussian whose covariance has the
/// spectrum S [L, L] (its eigenvalue per Fourier mode, e.g. gff_spectrum), exactly, by Parseval:
///   log N = -(1/2) (L^2 log 2 pi + sum_k log S(k) + sum_k |phi_hat(k)|^2 / (L^2 S(k))).  Returns [N].
torch::Tensor stationary_gaussian_log_density(const torch::Tensor& fields, const torch::Tensor& spectrum);

/// Per shell, P_reconstruction / P_input: the fraction of each wavelength's power a model's reconstructions
/// keep (1 = kept, 0 = dropped). Both spectra must be of the same L; shells where the input has no power give NaN.
torch::Tensor shell_ratio(const ShellSpectrum& reconstruction, const ShellSpectrum& input);

/// Connected two-point function along the axes,
///   G(r) = (1/2) (C(r e_row) + C(r e_col)),  C(r) = (1/N) sum_n (1/L^2) sum_x dphi_n(x) dphi_n(x + r),
/// for r = 0 .. floor(L/2), where dphi = phi - m and m is the mean over all samples and sites (the field's
/// mean under stationarity). Computed by Wiener-Khinchin: C = ifft2(|fft2(dphi)|^2) / L^2. Returns [L/2 + 1].
torch::Tensor two_point_correlation(const torch::Tensor& fields);

/// Block-spin coarse-graining (Kadanoff 1966) by b x b blocks: [N, L, L] -> [N, L/b, L/b], in the fields' dtype.
/// majority = false: the block average. majority = true (fields of +-1 spins only): the sign of the block sum,
/// ties (possible for even b) broken toward the block's first spin (its top-left site), so the map is
/// deterministic. Refuses L not a multiple of b.
torch::Tensor block_spin(const torch::Tensor& fields, int64_t b, bool majority);

/// Canonical correlations (Hotelling 1936) between features a [N, p] and b [N, q] of the same N samples:
/// the singular values, descending, of the whitened cross-covariance S_aa^{-1/2} S_ab S_bb^{-1/2} (centred
/// covariances over N), min(p, q) of them in [0, 1]. For stability each S gets a ridge
/// ridge * trace(S) / dim on its diagonal (and its inverse square root drops directions of no variance), so a
/// perfect linear relation gives 1 - O(ridge). Under independence, -(N - 1 - (p + q + 1)/2) sum log(1 - rho^2)
/// is asymptotically chi^2 with p q degrees of freedom (Bartlett 1938).
torch::Tensor canonical_correlations(const torch::Tensor& a, const torch::Tensor& b, double ridge = 1e-9);

/// The `count` lowest nonzero Fourier modes as real features: [N, 2 count'] with columns
/// (Re, Im) of phi_hat(k) / L for each mode in turn, count' = min(count, available). Which modes: all (a, b)
/// ordered by a^2 + b^2, then by larger a, then by larger b; of each conjugate pair {k, -k} (phi_hat(-k) is
/// the conjugate of phi_hat(k) for a real field) only the first; self-conjugate modes (k = -k mod the lattice:
/// a and b each 0 or L/2, whose Im is identically 0) left out. With this scaling white noise of variance v
/// gives each column variance v / 2. low_fourier_wavevectors lists the modes, [count', 2] int64 (a, b).
torch::Tensor low_fourier_modes(const torch::Tensor& fields, int64_t count);
torch::Tensor low_fourier_wavevectors(int64_t L, int64_t count);

/// The maximum-likelihood probabilistic PCA (Tipping & Bishop 1999) of a zero-mean Gaussian vector whose
/// covariance has eigenvalues lambda_1..lambda_D (for a stationary periodic field: the spectrum S(k) of
/// mode_power, one per Fourier mode), with latent size d, 1 <= d < D:
///   sigma^2 = mean of the D - d smallest eigenvalues, W = U_d (Lambda_d - sigma^2 I)^{1/2},
///   E[log N(x; 0, W W^T + sigma^2 I)] over the true field
///     = -(1/2) (D log 2 pi + sum_{i<=d} log lambda_i + (D - d) log sigma^2 + D)   (per configuration),
/// which is also the model's maximal expected log-likelihood. The decoded mean E[x | z] = W z keeps, with z
/// from the prior (= the aggregate posterior at the optimum), power lambda_i - sigma^2 along a kept
/// eigenvector: a fraction f_i = (lambda_i - sigma^2) / lambda_i of the field's, 0 along a discarded one. The
/// posterior-mean reconstruction W E[z | x] = W (W^T W + sigma^2 I)^{-1} W^T x shrinks x by f_i along that
/// eigenvector, so reconstructions keep a fraction f_i^2 of its power.
struct PpcaOptimum {
  double noise_variance = 0;     ///< sigma^2
  torch::Tensor kept;            ///< [d] int64: indices into `eigenvalues` of the d largest, descending (ties: lower index first)
  double log_likelihood = 0;     ///< expected log-likelihood per configuration, nats
  torch::Tensor power_fraction;  ///< [D] float64, in the order of `eigenvalues`
};
PpcaOptimum ppca_optimum(const torch::Tensor& eigenvalues, int64_t d);

}  // namespace elbo::diag
