#include "elbo/data/lattice.h"

#include "elbo/core/config.h"
#include "elbo/data/load.h"
#include "support/throws.h"

#include <torch/fft.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <tuple>

namespace {

using namespace elbo::data;
using elbo::test::expect_invalid_argument;

/// Whether mode (a, b) of an L x L grid is its own conjugate (-k = k mod 2 pi).
bool self_conjugate(int64_t a, int64_t b, int64_t L) { return (2 * a) % L == 0 && (2 * b) % L == 0; }

TEST(Gff, SpectrumIsTheLatticeLaplacianSymbol) {
  const torch::Tensor S = gff_spectrum(8, 0.5);
  ASSERT_EQ(S.sizes(), (std::vector<int64_t>{8, 8}));
  EXPECT_NEAR(S[0][0].item<double>(), 1 / 0.25, 1e-12);
  EXPECT_NEAR(S[4][4].item<double>(), 1 / (0.25 + 8), 1e-12);  // k = (pi, pi): 4 sin^2 = 4 each
  EXPECT_NEAR(S[1][0].item<double>(), 1 / (0.25 + 4 * std::pow(std::sin(M_PI / 8), 2)), 1e-12);
  EXPECT_TRUE(torch::allclose(S, S.flip({0}).roll(1, 0)));  // S(k) = S(-k)
}

/// Periodogram P(k) = |fft2(phi)(k)|^2 / (L^2 S(k)) summed over n samples: 2 sum P ~ chi^2_{2n} at a
/// complex mode, sum P ~ chi^2_n at a self-conjugate one. Over the M independent modes (one of each
/// conjugate pair) the squared z-scores of the per-mode means sum to X ~ chi^2_M (n large), tested
/// within M +- 4 sqrt(2M); the pooled total, exactly chi^2 with n L^2 dof, within 4 sd.
TEST(Gff, PeriodogramMatchesTheAnalyticSpectrum) {
  for (const auto& [L, mass] : std::vector<std::pair<int64_t, double>>{{16, 0.1}, {9, 1.0}}) {
    const int64_t n = 4000;
    const torch::Tensor phi = gaussian_free_field(n, L, mass, 11);
    ASSERT_EQ(phi.sizes(), (std::vector<int64_t>{n, L, L}));
    ASSERT_EQ(phi.scalar_type(), torch::kFloat64);
    const torch::Tensor S = gff_spectrum(L, mass);
    const torch::Tensor P = torch::fft::fft2(phi).abs().square() / (static_cast<double>(L * L) * S);
    const torch::Tensor mean = P.mean(0);
    double X = 0, total = 0, dof = 0;
    int64_t M = 0;
    for (int64_t a = 0; a < L; ++a)
      for (int64_t b = 0; b < L; ++b) {
        const int64_t ca = (L - a) % L, cb = (L - b) % L;  // the conjugate mode
        if (a * L + b > ca * L + cb) continue;             // counted with its partner
        const bool real = self_conjugate(a, b, L);
        const double m = mean[a][b].item<double>(), var = (real ? 2.0 : 1.0) / n;
        X += (m - 1) * (m - 1) / var;
        total += (real ? 1.0 : 2.0) * m * n;
        dof += real ? n : 2.0 * n;
        ++M;
      }
    EXPECT_EQ(M, (L * L + (L % 2 == 0 ? 4 : 1)) / 2);
    std::printf("[ gff L=%lld m=%g ] per-mode chi-square X = %.1f over M = %lld modes (mean %lld, sd %.1f); "
                "total %.0f vs dof %.0f (sd %.0f)\n",
                static_cast<long long>(L), mass, X, static_cast<long long>(M), static_cast<long long>(M),
                std::sqrt(2.0 * M), total, dof, std::sqrt(2 * dof));
    EXPECT_NEAR(X, static_cast<double>(M), 4 * std::sqrt(2.0 * M)) << "L " << L;
    EXPECT_NEAR(total, dof, 4 * std::sqrt(2 * dof)) << "L " << L;
    // Real space: Var(phi_x) = G(0) = mean of S, every site alike.
    const torch::Tensor var = phi.square().mean(0);
    const double G0 = S.mean().item<double>();
    // Var(phi_x^2) = 2 G0^2; the site average of phi^2 has variance (2 / L^4) sum_{x,y} G(x - y)^2
    // = (2 / L^4) sum_k S(k)^2 (Parseval).
    const double se_site = std::sqrt(2.0 / n) * G0;
    const double se_average = std::sqrt(2.0 * S.square().sum().item<double>() / n) / static_cast<double>(L * L);
    EXPECT_NEAR(var.mean().item<double>(), G0, 4 * se_average) << "L " << L;
    EXPECT_NEAR(var[0][0].item<double>(), G0, 4 * se_site) << "L " << L;
  }
}

TEST(Gff, DeterministicInTheSeed) {
  EXPECT_TRUE(torch::equal(gaussian_free_field(3, 8, 0.3, 5), gaussian_free_field(3, 8, 0.3, 5)));
  EXPECT_FALSE(torch::equal(gaussian_free_field(3, 8, 0.3, 5), gaussian_free_field(3, 8, 0.3, 6)));
}

/// Exact <e> and <|m|> per site of the 4 x 4 periodic Ising model by enumerating its 2^16 states.
std::pair<double, double> exact_ising_4x4(double T) {
  const int L = 4, N = 16;
  double Z = 0, E = 0, M = 0;
  for (uint32_t state = 0; state < (1u << N); ++state) {
    auto s = [&](int r, int c) { return ((state >> (((r + L) % L) * L + (c + L) % L)) & 1u) ? 1 : -1; };
    int energy = 0, magnetization = 0;
    for (int r = 0; r < L; ++r)
      for (int c = 0; c < L; ++c) {
        energy -= s(r, c) * (s(r + 1, c) + s(r, c + 1));
        magnetization += s(r, c);
      }
    const double w = std::exp(-energy / T);
    Z += w;
    E += w * energy / N;
    M += w * std::abs(magnetization) / static_cast<double>(N);
  }
  return {E / Z, M / Z};
}

TEST(Ising, WolffMatchesExactEnumerationOf4x4) {
  for (double T : {2.0, 3.0}) {
    const auto [exact_e, exact_m] = exact_ising_4x4(T);
    const int64_t n = 20000;
    const IsingSamples s = ising_wolff(n, 4, T, 17);
    const torch::Tensor spins = s.spins.to(torch::kFloat64);
    const torch::Tensor e = -(spins * (spins.roll(1, 1) + spins.roll(1, 2))).sum({1, 2}) / 16;
    const torch::Tensor m = spins.sum({1, 2}).abs() / 16;
    for (const auto& [name, x, exact] : {std::tuple{"energy", e, exact_e}, std::tuple{"|m|", m, exact_m}}) {
      const std::vector<double> series(x.data_ptr<double>(), x.data_ptr<double>() + n);
      const double tau = integrated_autocorrelation_time(series);  // of the thinned samples (about 0.5)
      const double se = x.std().item<double>() * std::sqrt(2 * tau / n);
      const double mean = x.mean().item<double>();
      std::printf("[ ising 4x4 T=%g ] %s per site: sampled %.5f +- %.5f (tau of samples %.2f), exact %.5f; "
                  "tau|m| %.2f flips, burn-in %lld, thinning %lld\n",
                  T, name, mean, se, tau, exact, s.tau_abs_m, static_cast<long long>(s.burn_in),
                  static_cast<long long>(s.thinning));
      EXPECT_NEAR(mean, exact, 3 * se) << name << " at T " << T;
    }
  }
}

TEST(Ising, SpinsDeterministicAndThinningChosen) {
  const IsingSamples a = ising_wolff(50, 8, ising_critical_temperature(), 3);
  EXPECT_NEAR(ising_critical_temperature(), 2.269185314, 1e-9);
  ASSERT_EQ(a.spins.sizes(), (std::vector<int64_t>{50, 8, 8}));
  EXPECT_TRUE(((a.spins == 1) | (a.spins == -1)).all().item<bool>());
  EXPECT_TRUE(torch::equal(ising_wolff(50, 8, 2.5, 3).spins, ising_wolff(50, 8, 2.5, 3).spins));
  EXPECT_GE(a.thinning, 1);
  EXPECT_GE(a.burn_in, 100);
  EXPECT_GT(a.pilot_tau, 0.4);
  EXPECT_GT(a.tau_abs_m, 0.4);
  EXPECT_GT(a.mean_cluster_size, 1.0);
  const IsingSamples fixed = ising_wolff(5, 8, 2.5, 3, 10, 3);
  EXPECT_EQ(fixed.burn_in, 10);
  EXPECT_EQ(fixed.thinning, 3);
  EXPECT_EQ(fixed.pilot_tau, 0.0);
}

TEST(Lattice, AutocorrelationTimeOfAnAr1Series) {
  // AR(1) with coefficient a: tau = 1/2 + a / (1 - a) = (1 + a) / (2 (1 - a)).
  std::mt19937_64 rng(1);
  std::normal_distribution<double> z;
  const double a = 0.8;
  std::vector<double> x(200000);
  double v = 0;
  for (auto& xi : x) xi = v = a * v + z(rng);
  EXPECT_NEAR(integrated_autocorrelation_time(x), (1 + a) / (2 * (1 - a)), 0.25);
  EXPECT_EQ(integrated_autocorrelation_time(std::vector<double>(10, 1.0)), 0.5);
}

TEST(Lattice, ErrorsNameTheKey) {
  expect_invalid_argument([] { gaussian_free_field(2, 8, -1.0, 0); }, {"data.lattice_mass", "-1"});
  expect_invalid_argument([] { gaussian_free_field(2, 8, 0.0, 0); }, {"data.lattice_mass"});
  expect_invalid_argument([] { gaussian_free_field(2, 1, 0.1, 0); }, {"data.lattice_size", "got 1"});
  expect_invalid_argument([] { gaussian_free_field(0, 8, 0.1, 0); }, {"data.lattice_train"});
  expect_invalid_argument([] { ising_wolff(2, 8, -2.0, 0); }, {"data.lattice_temperature", "-2"});
  expect_invalid_argument([] { ising_wolff(2, 8, 0.0, 0); }, {"data.lattice_temperature"});
  expect_invalid_argument([] { ising_wolff(2, 1, 2.0, 0); }, {"data.lattice_size"});
  expect_invalid_argument([] { make_lattice("potts", 2, 8, 0.1, 2.0, 0); }, {"data.lattice_model", "potts"});
}

TEST(Lattice, LoadDataBuildsSplitsFromDisjointStreams) {
  for (const std::string model : {"gff", "ising"}) {
    elbo::Config c;
    for (const std::string& a : std::vector<std::string>{"data.format=lattice", "data.lattice_model=" + model,
                                                         "data.lattice_size=8", "data.lattice_train=300",
                                                         "data.lattice_test=100", "data.validation=50"})
      c.set(a);
    const Splits s = load_data(c);
    EXPECT_EQ(s.train.size(), 250);
    EXPECT_EQ(s.validation.size(), 50);
    ASSERT_EQ(s.test.size(), 100);
    EXPECT_EQ(s.train.x.sizes(), (std::vector<int64_t>{250, 64}));
    EXPECT_EQ(s.train.x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(s.train.image.height, 8);
    EXPECT_EQ(s.train.image.width, 8);
    EXPECT_EQ(s.train.image.channels, 1);
    if (model == "ising") EXPECT_TRUE(((s.train.x == 0) | (s.train.x == 1)).all().item<bool>());
    // Test configurations come from another stream: the first test row is no training row.
    EXPECT_FALSE((s.train.x == s.test.x[0]).all(1).any().item<bool>()) << model;
    const Splits again = load_data(c);
    EXPECT_TRUE(torch::equal(s.test.x, again.test.x)) << model;
  }
}

}  // namespace
