#include "elbo/diag/lattice_spectra.h"

#include "elbo/core/check.h"

#include <torch/fft.h>
#include <torch/linalg.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

namespace elbo::diag {

using torch::Tensor;

namespace {

/// Checks fields [N, L, L] and returns them as float64 on the CPU.
Tensor lattice_fields(const char* fn, const Tensor& fields) {
  ELBO_CHECK(fields.defined() && fields.dim() == 3 && fields.size(0) >= 1 && fields.size(1) >= 1 &&
                 fields.size(1) == fields.size(2),
             fn, ": fields must be [N, L, L] (N >= 1 configurations of an L x L lattice), got ",
             fields.defined() ? fields.sizes() : c10::IntArrayRef{});
  return fields.detach().to(torch::kCPU, torch::kDouble);
}

/// The wave number of torch::fft index i on a lattice of L sites, in (-L/2, L/2].
int64_t wave_number(int64_t i, int64_t L) { return 2 * i <= L ? i : i - L; }

/// |z|^2 of a complex tensor.
Tensor squared_modulus(const Tensor& z) { return torch::real(z).square() + torch::imag(z).square(); }

/// Power of each mode of each field, |phi_hat_n(k)|^2 / L^2, [N, L, L] (fields already checked).
Tensor field_power(const Tensor& phi) {
  return squared_modulus(torch::fft::fft2(phi)) / static_cast<double>(phi.size(1) * phi.size(2));
}

/// S^{-1/2} of a symmetric positive semi-definite S after the ridge, directions of no variance dropped.
Tensor inverse_sqrt(const Tensor& s, double ridge) {
  const int64_t dim = s.size(0);
  const double trace = s.trace().item<double>();
  Tensor eigenvalues, eigenvectors;
  std::tie(eigenvalues, eigenvectors) =
      torch::linalg::eigh(s + ridge * trace / dim * torch::eye(dim, s.options()), "L");
  const Tensor positive = eigenvalues > 0;
  const Tensor scale = torch::where(positive, eigenvalues.clamp_min(1e-300).rsqrt(), torch::zeros_like(eigenvalues));
  return eigenvectors.mul(scale).matmul(eigenvectors.t());
}

}  // namespace

Tensor mode_power(const Tensor& fields) {
  return field_power(lattice_fields("elbo::diag::mode_power", fields)).mean(0);
}

namespace {

/// The shell s = round(|(a, b)|) of each mode of an L x L lattice, [L * L] int64 in torch::fft order.
std::vector<int64_t> shell_of_modes(int64_t L) {
  std::vector<int64_t> shell(L * L);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) {
      const double a = wave_number(i, L), b = wave_number(j, L);
      shell[i * L + j] = static_cast<int64_t>(std::lround(std::sqrt(a * a + b * b)));
    }
  return shell;
}

}  // namespace

ShellSpectrum shell_means(const Tensor& per_mode) {
  ELBO_CHECK(per_mode.defined() && per_mode.dim() >= 2 && per_mode.size(-1) == per_mode.size(-2) &&
                 per_mode.size(-1) >= 1,
             "elbo::diag::shell_means: per-mode values must be [..., L, L], got ",
             per_mode.defined() ? per_mode.sizes() : c10::IntArrayRef{});
  const int64_t L = per_mode.size(-1);
  const std::vector<int64_t> of_mode = shell_of_modes(L);
  const int64_t shells = *std::max_element(of_mode.begin(), of_mode.end()) + 1;
  std::vector<int64_t> count(shells, 0);
  for (int64_t s : of_mode) ++count[s];
  // Columns of `average` are the non-empty shells: 1 / (modes in the shell) at each of its modes.
  std::vector<int64_t> shell, modes;
  std::vector<int64_t> column(shells, -1);
  for (int64_t s = 0; s < shells; ++s)
    if (count[s] > 0) {
      column[s] = static_cast<int64_t>(shell.size());
      shell.push_back(s);
      modes.push_back(count[s]);
    }
  const auto n = static_cast<int64_t>(shell.size());
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto i64 = torch::TensorOptions().dtype(torch::kLong);
  Tensor average = torch::zeros({L * L, n}, f64);
  auto a = average.accessor<double, 2>();
  for (int64_t m = 0; m < L * L; ++m) a[m][column[of_mode[m]]] = 1.0 / static_cast<double>(count[of_mode[m]]);
  ShellSpectrum out;
  out.shell = torch::from_blob(shell.data(), {n}, i64).clone();
  out.modes = torch::from_blob(modes.data(), {n}, i64).clone();
  out.k = out.shell.to(torch::kDouble) * (2 * M_PI / static_cast<double>(L));
  out.power = per_mode.detach().to(torch::kCPU, torch::kDouble).flatten(-2).matmul(average);
  return out;
}

ShellSpectrum power_by_shell(const Tensor& fields) {
  return shell_means(mode_power(lattice_fields("elbo::diag::power_by_shell", fields)));
}

ShellRatio shell_power_ratio(const Tensor& reconstructions, const Tensor& inputs) {
  const char* fn = "elbo::diag::shell_power_ratio";
  const Tensor a = lattice_fields(fn, reconstructions), b = lattice_fields(fn, inputs);
  ELBO_CHECK(a.sizes() == b.sizes(), fn, ": reconstructions ", a.sizes(), " and inputs ", b.sizes(),
             " must be the same fields");
  const int64_t n = a.size(0);
  ShellRatio out;
  out.reconstruction = shell_means(field_power(a));  // power [N, S]: per field
  out.input = shell_means(field_power(b));
  const Tensor pa = out.reconstruction.power, pb = out.input.power;
  out.reconstruction.power = pa.mean(0);  // the spectra: means over the fields
  out.input.power = pb.mean(0);
  out.ratio = shell_ratio(out.reconstruction, out.input);
  const Tensor mean_b = out.input.power;
  // Delta method for a ratio of means: Var(r) ~ Var(a - r b) / (N mean(b)^2).
  out.se = n >= 2 ? (pa - out.ratio * pb).std(0, /*unbiased=*/true) / (std::sqrt(static_cast<double>(n)) * mean_b)
                  : torch::full_like(mean_b, std::numeric_limits<double>::quiet_NaN());
  return out;
}

Tensor stationary_gaussian_log_density(const Tensor& fields, const Tensor& spectrum) {
  const char* fn = "elbo::diag::stationary_gaussian_log_density";
  const Tensor phi = lattice_fields(fn, fields);
  const int64_t L = phi.size(1);
  ELBO_CHECK(spectrum.defined() && spectrum.dim() == 2 && spectrum.size(0) == L && spectrum.size(1) == L, fn,
             ": the spectrum must be [L, L] = [", L, ", ", L, "] like the fields, got ",
             spectrum.defined() ? spectrum.sizes() : c10::IntArrayRef{});
  const Tensor s = spectrum.detach().to(torch::kCPU, torch::kDouble);
  ELBO_CHECK((s > 0).all().item<bool>() && torch::isfinite(s).all().item<bool>(), fn,
             ": the spectrum must be finite and > 0 at every mode (min ", s.min().item<double>(), ")");
  const Tensor quadratic = (field_power(phi) / s).sum({1, 2});
  return -0.5 * (static_cast<double>(L * L) * std::log(2 * M_PI) + s.log().sum() + quadratic);
}

Tensor shell_ratio(const ShellSpectrum& reconstruction, const ShellSpectrum& input) {
  ELBO_CHECK(reconstruction.shell.defined() && input.shell.defined() &&
                 torch::equal(reconstruction.shell, input.shell) && torch::equal(reconstruction.modes, input.modes),
             "elbo::diag::shell_ratio: the spectra have different shells (",
             reconstruction.shell.defined() ? reconstruction.shell.numel() : 0, " and ",
             input.shell.defined() ? input.shell.numel() : 0, "); they must come from fields of the same L");
  return torch::where(input.power > 0, reconstruction.power / input.power,
                      torch::full_like(input.power, std::numeric_limits<double>::quiet_NaN()));
}

Tensor two_point_correlation(const Tensor& fields) {
  const Tensor phi = lattice_fields("elbo::diag::two_point_correlation", fields);
  const int64_t L = phi.size(1);
  const Tensor centred = phi - phi.mean();
  // Wiener-Khinchin: ifft2(|phi_hat|^2)[r] = sum_x dphi(x) dphi(x + r).
  const Tensor c =
      torch::real(torch::fft::ifft2(squared_modulus(torch::fft::fft2(centred)).to(torch::kComplexDouble))).mean(0) /
      static_cast<double>(L * L);
  const int64_t half = L / 2;
  using torch::indexing::Slice;
  return 0.5 * (c.index({Slice(0, half + 1), 0}) + c.index({0, Slice(0, half + 1)}));
}

Tensor block_spin(const Tensor& fields, int64_t b, bool majority) {
  const char* fn = "elbo::diag::block_spin";
  const Tensor phi = lattice_fields(fn, fields);
  const int64_t n = phi.size(0), L = phi.size(1);
  ELBO_CHECK(b >= 1, fn, ": block size b must be >= 1 (got ", b, ")");
  ELBO_CHECK(L % b == 0, fn, ": lattice size L = ", L, " is not a multiple of the block size b = ", b);
  const Tensor blocks = phi.reshape({n, L / b, b, L / b, b});
  const Tensor sum = blocks.sum({2, 4});
  const auto dtype = fields.is_floating_point() ? fields.scalar_type() : torch::kDouble;
  if (!majority) return (sum / static_cast<double>(b * b)).to(fields.device(), dtype);
  ELBO_CHECK(((phi == 1) | (phi == -1)).all().item<bool>(), fn,
             ": majority rule needs fields of +-1 spins only (found other values)");
  using torch::indexing::Slice;
  const Tensor first = blocks.index({Slice(), Slice(), 0, Slice(), 0});
  return torch::where(sum == 0, first, sum.sign()).to(fields.device(), fields.scalar_type());
}

Tensor canonical_correlations(const Tensor& a, const Tensor& b, double ridge) {
  const char* fn = "elbo::diag::canonical_correlations";
  ELBO_CHECK(a.defined() && b.defined() && a.dim() == 2 && b.dim() == 2 && a.size(0) == b.size(0) &&
                 a.size(0) >= 2 && a.size(1) >= 1 && b.size(1) >= 1,
             fn, ": needs a [N, p] and b [N, q] with the same N >= 2, got a ",
             a.defined() ? a.sizes() : c10::IntArrayRef{}, " and b ", b.defined() ? b.sizes() : c10::IntArrayRef{});
  ELBO_CHECK(ridge >= 0 && std::isfinite(ridge), fn, ": ridge must be >= 0 (got ", ridge, ")");
  const Tensor x = a.detach().to(torch::kCPU, torch::kDouble), y = b.detach().to(torch::kCPU, torch::kDouble);
  const Tensor xc = x - x.mean(0, true), yc = y - y.mean(0, true);
  const double n = static_cast<double>(x.size(0));
  const Tensor whitened =
      inverse_sqrt(xc.t().matmul(xc) / n, ridge).matmul(xc.t().matmul(yc) / n).matmul(inverse_sqrt(yc.t().matmul(yc) / n, ridge));
  return torch::linalg::svdvals(whitened, c10::nullopt).clamp(0.0, 1.0);
}

Tensor low_fourier_wavevectors(int64_t L, int64_t count) {
  ELBO_CHECK(L >= 1 && count >= 1, "elbo::diag::low_fourier_wavevectors: needs L >= 1 and count >= 1 (got L = ", L,
             ", count = ", count, ")");
  std::vector<std::pair<int64_t, int64_t>> candidates;
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = 0; j < L; ++j) candidates.emplace_back(wave_number(i, L), wave_number(j, L));
  std::sort(candidates.begin(), candidates.end(), [](const auto& u, const auto& v) {
    return std::make_tuple(u.first * u.first + u.second * u.second, -u.first, -u.second) <
           std::make_tuple(v.first * v.first + v.second * v.second, -v.first, -v.second);
  });
  auto wrap = [L](int64_t a) { return ((a % L) + L) % L; };
  std::set<std::pair<int64_t, int64_t>> chosen;
  std::vector<int64_t> out;
  for (const auto& [a, b] : candidates) {
    if (static_cast<int64_t>(out.size()) / 2 >= count) break;
    if (wrap(2 * a) == 0 && wrap(2 * b) == 0) continue;  // self-conjugate (k = 0 included)
    if (chosen.count({wrap(-a), wrap(-b)})) continue;     // its conjugate is already in
    chosen.insert({wrap(a), wrap(b)});
    out.push_back(a);
    out.push_back(b);
  }
  const auto m = static_cast<int64_t>(out.size()) / 2;
  return torch::from_blob(out.data(), {m, 2}, torch::TensorOptions().dtype(torch::kLong)).clone();
}

Tensor low_fourier_modes(const Tensor& fields, int64_t count) {
  const Tensor phi = lattice_fields("elbo::diag::low_fourier_modes", fields);
  const int64_t n = phi.size(0), L = phi.size(1);
  const Tensor k = low_fourier_wavevectors(L, count);
  const Tensor flat = (k.select(1, 0).remainder(L) * L + k.select(1, 1).remainder(L));
  const Tensor coefficients = torch::fft::fft2(phi).reshape({n, L * L}).index_select(1, flat) / static_cast<double>(L);
  return torch::stack({torch::real(coefficients), torch::imag(coefficients)}, -1).reshape({n, 2 * k.size(0)});
}

PpcaOptimum ppca_optimum(const Tensor& eigenvalues, int64_t d) {
  const char* fn = "elbo::diag::ppca_optimum";
  ELBO_CHECK(eigenvalues.defined() && eigenvalues.dim() == 1 && eigenvalues.size(0) >= 2, fn,
             ": eigenvalues must be [D] with D >= 2, got ",
             eigenvalues.defined() ? eigenvalues.sizes() : c10::IntArrayRef{});
  const Tensor lambda = eigenvalues.detach().to(torch::kCPU, torch::kDouble);
  const int64_t D = lambda.size(0);
  ELBO_CHECK(d >= 1 && d < D, fn, ": latent size d must be in [1, D) = [1, ", D, ") (got d = ", d, ")");
  ELBO_CHECK(torch::isfinite(lambda).all().item<bool>() && (lambda >= 0).all().item<bool>(), fn,
             ": eigenvalues must be finite and >= 0, as a covariance's (min ", lambda.min().item<double>(), ")");
  const Tensor order = std::get<1>(torch::sort(lambda, /*stable=*/true, /*dim=*/0, /*descending=*/true));
  PpcaOptimum out;
  out.kept = order.slice(0, 0, d).clone();
  const Tensor kept_values = lambda.index_select(0, out.kept);
  const Tensor discarded = lambda.index_select(0, order.slice(0, d));
  out.noise_variance = discarded.mean().item<double>();
  ELBO_CHECK_NUMERIC(out.noise_variance > 0, fn, ": the ", D - d, " discarded eigenvalues are all 0, so sigma^2 = 0 "
                     "and the likelihood is unbounded; use a larger d or a covariance of full rank");
  out.log_likelihood = -0.5 * (D * std::log(2 * M_PI) + kept_values.log().sum().item<double>() +
                               (D - d) * std::log(out.noise_variance) + D);
  out.power_fraction = torch::zeros({D}, torch::kDouble);
  out.power_fraction.index_copy_(0, out.kept, (kept_values - out.noise_variance) / kept_values);
  return out;
}

}  // namespace elbo::diag
