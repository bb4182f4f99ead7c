#include "elbo/diag/lattice_spectra.h"

#include "elbo/core/config.h"
#include "elbo/model/factory.h"
#include "elbo/nn/conv.h"
#include "support/throws.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/fft.h>
#include <torch/linalg.h>

#include <cmath>
#include <vector>

namespace {

using namespace elbo;
using namespace elbo::diag;
using torch::Tensor;
using torch::indexing::None;
using torch::indexing::Slice;

const double kPi = 3.14159265358979323846;
const auto f64 = torch::TensorOptions().dtype(torch::kDouble);

/// cos(2 pi (a row + b col) / L + phase) on an L x L lattice, [1, L, L].
Tensor plane_wave(int64_t L, int64_t a, int64_t b, double phase = 0) {
  const Tensor r = torch::arange(L, f64).view({L, 1}), c = torch::arange(L, f64).view({1, L});
  return torch::cos(2 * kPi * (a * r + b * c) / L + phase).unsqueeze(0);
}

TEST(LatticeSpectra, PlaneWavePowerSitsInOneShell) {
  // cos(k.x) with k = 2 pi (2, 1) / 8: phi_hat = L^2 / 2 at +-k, so P = L^2 / 4 = 16 at those two modes only;
  // |k| L / (2 pi) = sqrt(5) rounds to shell 2, which has 12 modes: (+-2, 0), (0, +-2), (+-2, +-1), (+-1, +-2).
  const int64_t L = 8;
  const Tensor phi = torch::cat({plane_wave(L, 2, 1), plane_wave(L, 2, 1, 0.7), plane_wave(L, 2, 1, -2.0)});
  const Tensor p = mode_power(phi);
  EXPECT_NEAR(p[2][1].item<double>(), 16.0, 1e-10);
  EXPECT_NEAR(p[L - 2][L - 1].item<double>(), 16.0, 1e-10);
  EXPECT_NEAR(p.sum().item<double>(), 32.0, 1e-9);  // Parseval: sum_x cos^2 = L^2 / 2
  const ShellSpectrum s = power_by_shell(phi);
  EXPECT_EQ(s.modes.sum().item<int64_t>(), L * L);
  for (int64_t i = 0; i < s.shell.size(0); ++i) {
    const int64_t shell = s.shell[i].item<int64_t>();
    EXPECT_NEAR(s.k[i].item<double>(), 2 * kPi * shell / L, 1e-12);
    if (shell == 2) {
      EXPECT_EQ(s.modes[i].item<int64_t>(), 12);
      EXPECT_NEAR(s.power[i].item<double>(), 32.0 / 12, 1e-10);
    } else {
      EXPECT_NEAR(s.power[i].item<double>(), 0.0, 1e-10) << "shell " << shell;
    }
  }
}

TEST(LatticeSpectra, ShellsCountEveryModeOnceAndRatiosCompareSpectra) {
  torch::manual_seed(1);
  for (int64_t L : {1, 4, 5, 8}) {
    const ShellSpectrum s = power_by_shell(torch::randn({3, L, L}, f64));
    EXPECT_EQ(s.modes.sum().item<int64_t>(), L * L) << L;
    EXPECT_EQ(s.shell[0].item<int64_t>(), 0);
    EXPECT_EQ(s.modes[0].item<int64_t>(), 1);
  }
  const Tensor x = torch::randn({4, 8, 8}, f64);
  const Tensor ratio = shell_ratio(power_by_shell(0.5 * x), power_by_shell(x));
  EXPECT_TRUE(torch::allclose(ratio, torch::full_like(ratio, 0.25)));
  test::expect_invalid_argument([&] { shell_ratio(power_by_shell(x), power_by_shell(torch::randn({4, 6, 6}))); },
                                {"elbo::diag::shell_ratio", "same L"});
  test::expect_invalid_argument([] { power_by_shell(torch::randn({2, 4, 5})); }, {"[N, L, L]", "[2, 4, 5]"});
}

TEST(LatticeSpectra, TwoPointFunctionOfAPlaneWave) {
  // cos(2 pi row / L): C(r e_row) = cos(2 pi r / L) / 2, C(r e_col) = 1 / 2, so G(r) = (cos(2 pi r / L) + 1) / 4.
  const int64_t L = 8;
  const Tensor g = two_point_correlation(torch::cat({plane_wave(L, 1, 0), plane_wave(L, 1, 0, 1.3)}));
  ASSERT_EQ(g.size(0), L / 2 + 1);
  for (int64_t r = 0; r <= L / 2; ++r)
    EXPECT_NEAR(g[r].item<double>(), (std::cos(2 * kPi * r / L) + 1) / 4, 1e-12) << r;
}

TEST(LatticeSpectra, TwoPointFunctionEqualsTheDirectSum) {
  torch::manual_seed(2);
  const int64_t L = 7;
  const Tensor phi = torch::randn({5, L, L}, f64) + 0.3;
  const Tensor d = phi - phi.mean();
  const Tensor g = two_point_correlation(phi.to(torch::kFloat));
  ASSERT_EQ(g.size(0), L / 2 + 1);
  for (int64_t r = 0; r <= L / 2; ++r) {
    const double rows = (d * torch::roll(d, {-r}, {1})).mean().item<double>();
    const double cols = (d * torch::roll(d, {-r}, {2})).mean().item<double>();
    EXPECT_NEAR(g[r].item<double>(), 0.5 * (rows + cols), 1e-6) << r;  // float input
  }
}

TEST(BlockSpin, AverageAndMajorityByHand) {
  const Tensor phi = torch::tensor({1, 1, -1, 1,    //
                                    1, -1, -1, -1,  //
                                    -1, 1, 1, 1,    //
                                    1, -1, 1, 1},
                                   torch::kFloat)
                         .view({1, 4, 4});
  // Blocks (top-left, top-right, bottom-left, bottom-right) sum to 2, -2, 0, 4.
  EXPECT_TRUE(torch::equal(block_spin(phi, 2, false), torch::tensor({0.5, -0.5, 0.0, 1.0}, torch::kFloat).view({1, 2, 2})));
  // Majority: the tie in the bottom-left block goes to its first spin, -1.
  const Tensor m = block_spin(phi, 2, true);
  EXPECT_EQ(m.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(m, torch::tensor({1, -1, -1, 1}, torch::kFloat).view({1, 2, 2})));
  // b = 1 is the identity; b = L one block.
  EXPECT_TRUE(torch::equal(block_spin(phi, 1, true), phi));
  EXPECT_TRUE(torch::equal(block_spin(phi, 4, false), torch::full({1, 1, 1}, 0.25, torch::kFloat)));
}

TEST(BlockSpin, RefusesBadSizesAndValues) {
  test::expect_invalid_argument([] { block_spin(torch::ones({1, 6, 6}), 4, false); }, {"L = 6", "b = 4"});
  test::expect_invalid_argument([] { block_spin(torch::zeros({1, 4, 4}), 2, true); }, {"+-1 spins"});
}

TEST(CanonicalCorrelation, LinearFunctionGivesOnes) {
  torch::manual_seed(3);
  const Tensor b = torch::randn({2000, 3}, f64);
  const Tensor a = b.matmul(torch::tensor({1.0, -2.0, 0.5, 0.3, 0.0, 4.0}, f64).view({3, 2})) + 7.0;
  const Tensor rho = canonical_correlations(a, b);
  ASSERT_EQ(rho.size(0), 2);
  EXPECT_TRUE(torch::allclose(rho, torch::ones({2}, f64), 0, 1e-6)) << rho;
  // A single known correlation 0.6 (y = 0.6 x + 0.8 e), beside an independent column: rho_1 ~ 0.6 within
  // a few standard errors (1 - rho^2) / sqrt(N) ~ 0.009, rho_2 ~ 0.
  const Tensor x = torch::randn({5000, 1}, f64);
  const Tensor y = torch::cat({0.6 * x + 0.8 * torch::randn({5000, 1}, f64), torch::randn({5000, 1}, f64)}, 1);
  const Tensor r = canonical_correlations(torch::cat({x, torch::randn({5000, 1}, f64)}, 1), y);
  EXPECT_NEAR(r[0].item<double>(), 0.6, 0.04);
  EXPECT_LT(r[1].item<double>(), 0.06);
}

TEST(CanonicalCorrelation, IndependentNoiseIsNearZero) {
  // Bartlett (1938): -(N - 1 - (p + q + 1) / 2) sum log(1 - rho^2) ~ chi^2_{pq} under independence;
  // its 0.999 quantile for pq = 6 is 22.458.
  torch::manual_seed(4);
  const int64_t n = 20000, p = 3, q = 2;
  const Tensor rho = canonical_correlations(torch::randn({n, p}, f64), torch::randn({n, q}, f64));
  ASSERT_EQ(rho.size(0), q);
  EXPECT_GE(rho[0].item<double>(), rho[1].item<double>());
  const double statistic = -(n - 1 - (p + q + 1) / 2.0) * torch::log1p(-rho.square()).sum().item<double>();
  EXPECT_LT(statistic, 22.458);
  EXPECT_LT(rho[0].item<double>(), 0.05);
  test::expect_invalid_argument([] { canonical_correlations(torch::randn({5, 2}), torch::randn({4, 2})); },
                                {"same N", "[5, 2]", "[4, 2]"});
}

TEST(LatticeSpectra, LowFourierModesAreTheLowestConjugateRepresentatives) {
  EXPECT_TRUE(torch::equal(low_fourier_wavevectors(8, 3), torch::tensor({1, 0, 0, 1, 1, 1}, torch::kLong).view({3, 2})));
  EXPECT_EQ(low_fourier_wavevectors(8, 1000).size(0), (64 - 4) / 2);  // four self-conjugate modes on even L
  EXPECT_EQ(low_fourier_wavevectors(5, 1000).size(0), (25 - 1) / 2);
  // cos(2 pi row / L): phi_hat(1, 0) / L = L / 2; sin: -i L / 2; nothing in the other modes.
  const int64_t L = 8;
  const Tensor r = torch::arange(L, f64).view({1, L, 1}).expand({1, L, L});
  const Tensor f = low_fourier_modes(torch::cat({torch::cos(2 * kPi * r / L), torch::sin(2 * kPi * r / L)}), 3);
  const Tensor expected = torch::zeros({2, 6}, f64);
  expected[0][0] = L / 2.0;
  expected[1][1] = -L / 2.0;
  EXPECT_TRUE(torch::allclose(f, expected, 0, 1e-12)) << f;
}

/// The lattice free field's spectrum S(a, b) = 1 / (m^2 + 4 sin^2(pi a / L) + 4 sin^2(pi b / L)), [L, L].
Tensor free_field_spectrum(int64_t L, double m2) {
  const Tensor s = 4 * torch::sin(kPi * torch::arange(L, f64) / L).square();
  return 1.0 / (m2 + s.view({L, 1}) + s.view({1, L}));
}

/// The explicit [L^2, L^2] covariance of a stationary periodic field with spectrum S [L, L]:
/// C[x, y] = c(x - y), c = ifft2(S).
Tensor dense_covariance(const Tensor& spectrum) {
  const int64_t L = spectrum.size(0), D = L * L;
  const Tensor c = torch::real(torch::fft::ifft2(spectrum.to(torch::kComplexDouble)));
  Tensor cov = torch::empty({D, D}, f64);
  for (int64_t x = 0; x < D; ++x)
    for (int64_t y = 0; y < D; ++y)
      cov[x][y] = c[((x / L - y / L) % L + L) % L][((x % L - y % L) % L + L) % L];
  return cov;
}

TEST(PpcaOptimum, MatchesTheEigendecompositionAndTheFittedModel) {
  const int64_t L = 4, D = L * L, d = 5;  // the zero mode and the four |k| = 2 pi / L modes: no tie at the cut
  const Tensor spectrum = free_field_spectrum(L, 0.5);
  // The explicit covariance and its numerical eigenvalues.
  const Tensor cov = dense_covariance(spectrum);
  Tensor lambda, u;
  std::tie(lambda, u) = torch::linalg::eigh(cov, "L");
  EXPECT_TRUE(torch::allclose(lambda, std::get<0>(torch::sort(spectrum.flatten())), 0, 1e-12));

  const PpcaOptimum from_spectrum = ppca_optimum(spectrum.flatten(), d);
  const PpcaOptimum opt = ppca_optimum(lambda, d);
  EXPECT_NEAR(opt.noise_variance, from_spectrum.noise_variance, 1e-12);
  EXPECT_NEAR(opt.log_likelihood, from_spectrum.log_likelihood, 1e-10);
  EXPECT_NEAR(opt.noise_variance, lambda.slice(0, 0, D - d).mean().item<double>(), 1e-12);
  EXPECT_TRUE(torch::equal(std::get<0>(opt.kept.sort()), torch::arange(D - d, D, torch::kLong)));  // eigh ascends
  EXPECT_TRUE(torch::equal(std::get<0>(from_spectrum.kept.sort()), torch::tensor({0, 1, 3, 4, 12}, torch::kLong)));

  // The fitted model by the direct formula: W = U_d (Lambda_d - sigma^2 I)^{1/2}, C_model = W W^T + sigma^2 I,
  // E[log N(x; 0, C_model)] = -(D log 2 pi + log det C_model + tr(C_model^{-1} C)) / 2.
  const double s2 = opt.noise_variance;
  const Tensor ud = u.slice(1, D - d), w = ud * (lambda.slice(0, D - d) - s2).sqrt();
  const Tensor model = w.matmul(w.t()) + s2 * torch::eye(D, f64);
  const double expected =
      -0.5 * (D * std::log(2 * kPi) + torch::logdet(model).item<double>() +
              torch::linalg::solve(model, cov, true).trace().item<double>());
  EXPECT_NEAR(opt.log_likelihood, expected, 1e-10);
  // Power of W z (z ~ N(0, I)) along each eigenvector over the field's power there.
  const Tensor fraction = torch::diag(u.t().matmul(w.matmul(w.t())).matmul(u)) / lambda;
  EXPECT_TRUE(torch::allclose(opt.power_fraction, fraction, 0, 1e-12)) << opt.power_fraction << fraction;
  // Maximal: any other noise level or a kept direction swapped for a discarded one does worse.
  auto expected_ll = [&](const Tensor& model_cov) {
    return -0.5 * (D * std::log(2 * kPi) + torch::logdet(model_cov).item<double>() +
                   torch::linalg::solve(model_cov, cov, true).trace().item<double>());
  };
  EXPECT_LT(expected_ll(w.matmul(w.t()) + 1.2 * s2 * torch::eye(D, f64)), opt.log_likelihood);
  const Tensor swapped = torch::cat({u.slice(1, D - d + 1), u.slice(1, 0, 1)}, 1) * (lambda.slice(0, D - d) - s2).sqrt();
  EXPECT_LT(expected_ll(swapped.matmul(swapped.t()) + s2 * torch::eye(D, f64)), opt.log_likelihood);

  // mode_power of sampled fields estimates the spectrum (each |phi_hat|^2 / L^2 is S times an Exp(1)
  // variable, or chi^2_1 at self-conjugate modes: relative standard error <= sqrt(2 / N) ~ 0.01).
  torch::manual_seed(5);
  const int64_t n = 20000;
  const Tensor fields = torch::randn({n, D}, f64).matmul(torch::linalg::cholesky(cov).t()).view({n, L, L});
  EXPECT_TRUE(torch::allclose(mode_power(fields), spectrum, 0.05, 0)) << mode_power(fields) / spectrum;
}

TEST(LatticeSpectra, ShellMeansOfABatchAreThoseOfEachMember) {
  torch::manual_seed(2);
  const Tensor per_mode = torch::rand({3, 2, 6, 6}, f64);
  const ShellSpectrum batch = shell_means(per_mode);
  ASSERT_EQ(batch.power.sizes(), (std::vector<int64_t>{3, 2, batch.shell.size(0)}));
  const ShellSpectrum one = shell_means(per_mode[1][0]);
  EXPECT_TRUE(torch::equal(one.shell, batch.shell));
  EXPECT_TRUE(torch::allclose(batch.power[1][0], one.power, 0, 1e-15));
  // Each shell's mean by hand: modes (a, b) with round(|(a, b)|) = s.
  const Tensor m = per_mode[1][0];
  for (int64_t i = 0; i < one.shell.size(0); ++i) {
    double sum = 0;
    int64_t count = 0;
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t c = 0; c < 6; ++c) {
        const double a = r <= 3 ? r : r - 6, b = c <= 3 ? c : c - 6;
        if (std::lround(std::sqrt(a * a + b * b)) != one.shell[i].item<int64_t>()) continue;
        sum += m[r][c].item<double>();
        ++count;
      }
    EXPECT_EQ(count, one.modes[i].item<int64_t>());
    EXPECT_NEAR(one.power[i].item<double>(), sum / count, 1e-14);
  }
  test::expect_invalid_argument([] { shell_means(torch::rand({4, 5})); }, {"shell_means", "[..., L, L]"});
}

TEST(LatticeSpectra, ShellPowerRatioAndItsErrorAreCalibrated) {
  const int64_t L = 8, n = 400, replicates = 60;
  const Tensor spectrum = free_field_spectrum(L, 0.7);
  auto field = [&](int64_t count) {  // exact stationary Gaussian fields with this spectrum
    const Tensor w = torch::fft::fft2(torch::randn({count, L, L}, f64));
    return torch::real(torch::fft::ifft2(w * spectrum.sqrt()));
  };
  // Exact: half the amplitude keeps a quarter of every shell, with no error.
  torch::manual_seed(3);
  const Tensor x = field(50);
  const ShellRatio half = shell_power_ratio(0.5 * x, x);
  EXPECT_TRUE(torch::allclose(half.input.power, power_by_shell(x).power, 1e-12, 0));
  EXPECT_TRUE(torch::allclose(half.reconstruction.power, power_by_shell(0.5 * x).power, 1e-12, 0));
  EXPECT_TRUE(torch::allclose(half.ratio, torch::full_like(half.ratio, 0.25), 0, 1e-12));
  EXPECT_LT(half.se.abs().max().item<double>(), 1e-12);
  // Reconstructions c x + white noise of variance v keep c^2 + v / S-bar per shell (S-bar: the shell's mean
  // spectrum). Over replicates the z-scores (r - expected) / se are standard normal.
  const double c = 0.8, v = 0.3;
  const Tensor expected = c * c + v / shell_means(spectrum).power;
  std::vector<Tensor> z;
  for (int64_t r = 0; r < replicates; ++r) {
    const Tensor in = field(n), out = c * in + std::sqrt(v) * torch::randn({n, L, L}, f64);
    const ShellRatio got = shell_power_ratio(out, in);
    z.push_back((got.ratio - expected) / got.se);
  }
  const Tensor all = torch::stack(z);
  // sd of 60 x shells z-scores: within 15% of 1; mean within 4 SE of 0.
  EXPECT_NEAR(all.std().item<double>(), 1.0, 0.15);
  EXPECT_NEAR(all.mean().item<double>(), 0.0, 4.0 / std::sqrt(static_cast<double>(all.numel())));
  test::expect_invalid_argument([&] { shell_power_ratio(x, x.slice(0, 0, 3)); }, {"shell_power_ratio", "same fields"});
}

TEST(LatticeSpectra, StationaryGaussianLogDensityEqualsTheDenseFormula) {
  const int64_t L = 4, D = L * L;
  const Tensor spectrum = free_field_spectrum(L, 0.6);
  const Tensor cov = dense_covariance(spectrum);
  torch::manual_seed(4);
  const Tensor phi = torch::randn({5, D}, f64) * 2;
  const Tensor dense = -0.5 * (D * std::log(2 * kPi) + torch::logdet(cov) +
                               (phi * torch::linalg::solve(cov, phi.t(), true).t()).sum(1));
  EXPECT_TRUE(torch::allclose(stationary_gaussian_log_density(phi.view({5, L, L}), spectrum), dense, 0, 1e-10));
  test::expect_invalid_argument([&] { stationary_gaussian_log_density(phi.view({5, L, L}), spectrum.slice(0, 0, 2)); },
                                {"stationary_gaussian_log_density", "[L, L]"});
  test::expect_invalid_argument([&] { stationary_gaussian_log_density(phi.view({5, L, L}), spectrum - 10); },
                                {"finite and > 0"});
}

TEST(PpcaOptimum, TiesKeepTheLowerIndexAndBadInputsAreRefused) {
  const PpcaOptimum opt = ppca_optimum(torch::tensor({1.0, 3.0, 3.0, 2.0}, f64), 1);
  EXPECT_TRUE(torch::equal(opt.kept, torch::tensor({1}, torch::kLong)));
  EXPECT_NEAR(opt.noise_variance, 2.0, 1e-15);
  EXPECT_TRUE(torch::allclose(opt.power_fraction, torch::tensor({0.0, 1.0 / 3, 0.0, 0.0}, f64)));
  test::expect_invalid_argument([] { ppca_optimum(torch::ones({4}), 4); }, {"[1, 4)", "d = 4"});
  test::expect_invalid_argument([] { ppca_optimum(torch::tensor({1.0, -1.0}), 1); }, {">= 0"});
  EXPECT_THROW(ppca_optimum(torch::tensor({1.0, 0.0, 0.0}), 1), std::domain_error);
}

/// y[o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] x[c, (s i + u - p) mod H, (s j + v - p) mod W].
Tensor periodic_conv(const Tensor& x, const Tensor& w, const Tensor& b, int64_t s, int64_t p) {
  Tensor y;
  for (int64_t u = 0; u < w.size(2); ++u)
    for (int64_t v = 0; v < w.size(3); ++v) {
      const Tensor shifted = torch::roll(x, {-(u - p), -(v - p)}, {2, 3}).index({Slice(), Slice(), Slice(0, None, s), Slice(0, None, s)});
      const Tensor term = torch::einsum("ncij,oc->noij", {shifted, w.index({Slice(), Slice(), u, v})});
      y = y.defined() ? y + term : term;
    }
  return y + b.view({1, -1, 1, 1});
}

/// y[o, j] = b[o] + sum_{c, i, u: s i + u - p = j mod s H} w[c, o, u] x[c, i] (per axis): zero insertion, then
/// each kernel offset's rolled copy.
Tensor periodic_conv_transpose(const Tensor& x, const Tensor& w, const Tensor& b, int64_t s, int64_t p) {
  Tensor up = torch::zeros({x.size(0), x.size(1), s * x.size(2), s * x.size(3)}, x.options());
  up.index_put_({Slice(), Slice(), Slice(0, None, s), Slice(0, None, s)}, x);
  Tensor y = b.view({1, -1, 1, 1}).expand({x.size(0), w.size(1), s * x.size(2), s * x.size(3)}).clone();
  for (int64_t u = 0; u < w.size(2); ++u)
    for (int64_t v = 0; v < w.size(3); ++v)
      y += torch::einsum("ncij,co->noij", {torch::roll(up, {u - p, v - p}, {2, 3}), w.index({Slice(), Slice(), u, v})});
  return y;
}

TEST(CircularConv, Conv2dEqualsThePeriodicSum) {
  torch::manual_seed(6);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(2, 3, 4).stride(2).padding(1).padding_mode(torch::kCircular));
  conv->to(torch::kDouble);
  const Tensor x = torch::randn({2, 2, 8, 6}, f64);
  EXPECT_TRUE(torch::allclose(conv->forward(x), periodic_conv(x, conv->weight, conv->bias, 2, 1), 0, 1e-12));
}

TEST(CircularConv, TransposedConvolutionEqualsThePeriodicSum) {
  torch::manual_seed(7);
  struct Case { int64_t k, s, p, h, w; };
  for (const Case& c : {Case{4, 2, 1, 3, 4}, Case{4, 2, 1, 1, 2}, Case{3, 1, 1, 5, 3}, Case{5, 2, 2, 2, 3}, Case{3, 3, 0, 2, 2}}) {
    const Tensor x = torch::randn({2, 3, c.h, c.w}, f64);
    const Tensor w = torch::randn({3, 2, c.k, c.k}, f64), b = torch::randn({2}, f64);
    const Tensor y = nn::circular_conv_transpose2d(x, w, b, c.s, c.p);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 2, c.s * c.h, c.s * c.w}));
    EXPECT_TRUE(torch::allclose(y, periodic_conv_transpose(x, w, b, c.s, c.p), 0, 1e-12))
        << "k " << c.k << " s " << c.s << " p " << c.p << " H " << c.h;
  }
}

nn::ConvOptions lattice_options(nn::Padding padding) {
  return nn::ConvOptions(ImageShape{1, 8, 8}, 5).channels({3, 4}).padding(padding).params_per_pixel(2);
}

TEST(CircularConv, EncoderFeaturesCommuteWithShiftsByTheStride) {
  // Two stride-2 layers: shifting the image by 4 sites shifts the feature maps by 1.
  torch::manual_seed(8);
  const Tensor x = torch::randn({2, 1, 8, 8}, f64);
  nn::ConvEncoder encoder(lattice_options(nn::Padding::circular));
  encoder->to(torch::kDouble);
  const Tensor maps = encoder->feature_maps(x);
  ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{2, 4, 2, 2}));
  for (auto [dr, dc] : {std::pair<int64_t, int64_t>{4, 0}, {0, 4}, {4, -4}})
    EXPECT_TRUE(torch::allclose(encoder->feature_maps(torch::roll(x, {dr, dc}, {2, 3})),
                                torch::roll(maps, {dr / 4, dc / 4}, {2, 3}), 0, 1e-12));
  EXPECT_EQ(encoder->forward(x.view({2, 64})).sizes(), (std::vector<int64_t>{2, 5}));
  // With zero padding the edges break the symmetry (so the check above can fail).
  nn::ConvEncoder zeros(lattice_options(nn::Padding::zeros));
  zeros->to(torch::kDouble);
  EXPECT_FALSE(torch::allclose(zeros->feature_maps(torch::roll(x, {4}, {2})), torch::roll(zeros->feature_maps(x), {1}, {2}),
                               0, 1e-6));
}

TEST(CircularConv, DecoderCommutesWithShiftsByTheStride) {
  torch::manual_seed(9);
  nn::ConvDecoder decoder(lattice_options(nn::Padding::circular));
  decoder->to(torch::kDouble);
  const Tensor maps = torch::randn({2, 4, 2, 2}, f64);
  const Tensor y = decoder->upsample(maps);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 2, 8, 8}));
  EXPECT_TRUE(torch::allclose(decoder->upsample(torch::roll(maps, {1, -1}, {2, 3})), torch::roll(y, {4, -4}, {2, 3}),
                              0, 1e-12));
  EXPECT_EQ(decoder->forward(torch::randn({3, 5}, f64)).sizes(), (std::vector<int64_t>{3, 128}));
  nn::ConvDecoder zeros(lattice_options(nn::Padding::zeros));
  zeros->to(torch::kDouble);
  EXPECT_FALSE(torch::allclose(zeros->upsample(torch::roll(maps, {1}, {2})), torch::roll(zeros->upsample(maps), {4}, {2}),
                               0, 1e-6));
}

TEST(CircularConv, RefusesSizesThatDoNotTileTheTorus) {
  test::expect_invalid_argument(
      [] { nn::ConvEncoder(nn::ConvOptions(ImageShape{1, 6, 6}, 5).channels({3, 4}).padding(nn::Padding::circular)); },
      {"divisible by 2^layers = 4", "6x6x1"});
  EXPECT_NO_THROW(nn::ConvEncoder(nn::ConvOptions(ImageShape{1, 6, 6}, 5).channels({3, 4})));
  test::expect_invalid_argument([] { nn::parse_padding("reflect"); }, {"zeros, circular"});
}

TEST(CircularConv, VaeReadsModelPadding) {
  Config c;
  c.set("model.encoder=conv");
  c.set("model.decoder=conv");
  c.set("model.padding=circular");
  c.set("model.channels=[4, 8]");
  c.set("model.latent_dim=3");
  auto vae = model::make_model(c, 64, ImageShape{1, 8, 8});
  const model::Trace t = vae->forward(data::Batch{torch::randint(2, {2, 64}).to(torch::kFloat)}, 2);
  EXPECT_EQ(t.log_likelihood().sizes(), (std::vector<int64_t>{2, 2}));
  Config mlp;
  mlp.set("model.padding=circular");
  test::expect_invalid_argument([&] { model::make_model(mlp, 64, ImageShape{1, 8, 8}); }, {"model.padding"});
}

}  // namespace
