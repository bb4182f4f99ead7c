#include "elbo/data/lattice.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "elbo/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/fft.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace elbo::data {
namespace {

using torch::Tensor;

void check_size(int64_t L, const char* function) {
  ELBO_CHECK(L >= 2, "elbo::data::", function, ": data.lattice_size must be at least 2 (got ", L, ")");
}

void check_count(int64_t n, const char* function) {
  ELBO_CHECK(n >= 1, "elbo::data::", function, ": at least one configuration is needed (data.lattice_train, "
             "data.lattice_test; got ", n, ")");
}

/// One Markov chain of Wolff cluster flips on the periodic L x L lattice.
class WolffChain {
 public:
  WolffChain(int64_t L, double temperature, uint64_t seed)
      : L_(L), spins_(static_cast<size_t>(L * L)), p_(1.0 - std::exp(-2.0 / temperature)), rng_(seed) {
    for (auto& s : spins_) s = (rng_() >> 63) ? int8_t{1} : int8_t{-1};
    for (int8_t s : spins_) magnetization_ += s;
    stack_.reserve(spins_.size());
  }

  /// Grows one cluster from a uniform site and flips it; returns its size.
  int64_t flip_cluster() {
    const int64_t N = L_ * L_;
    const int64_t seed_site = static_cast<int64_t>(rng_() % static_cast<uint64_t>(N));
    const int8_t s0 = spins_[seed_site];
    spins_[seed_site] = static_cast<int8_t>(-s0);  // flipped on entry: a flipped site is never added twice
    stack_.clear();
    stack_.push_back(static_cast<int32_t>(seed_site));
    int64_t size = 1;
    while (!stack_.empty()) {
      const int64_t site = stack_.back();
      stack_.pop_back();
      const int64_t r = site / L_, c = site - r * L_;
      const int64_t neighbours[4] = {(r == 0 ? L_ - 1 : r - 1) * L_ + c, (r == L_ - 1 ? 0 : r + 1) * L_ + c,
                                     r * L_ + (c == 0 ? L_ - 1 : c - 1), r * L_ + (c == L_ - 1 ? 0 : c + 1)};
      for (int64_t y : neighbours) {
        if (spins_[y] == s0 && uniform() < p_) {
          spins_[y] = static_cast<int8_t>(-s0);
          stack_.push_back(static_cast<int32_t>(y));
          ++size;
        }
      }
    }
    magnetization_ -= 2 * s0 * size;
    return size;
  }

  double abs_m() const { return std::abs(static_cast<double>(magnetization_)) / static_cast<double>(L_ * L_); }
  const std::vector<int8_t>& spins() const { return spins_; }

 private:
  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

  int64_t L_;
  std::vector<int8_t> spins_;
  double p_;
  std::mt19937_64 rng_;
  int64_t magnetization_ = 0;
  std::vector<int32_t> stack_;
};

}  // namespace

Tensor gff_spectrum(int64_t L, double mass) {
  check_size(L, "gff_spectrum");
  ELBO_CHECK(mass > 0 && std::isfinite(mass), "elbo::data::gff_spectrum: data.lattice_mass must be positive and "
             "finite (got ", mass, "; the massless field has no normalizable zero mode)");
  const Tensor k = torch::arange(L, torch::kFloat64) * (2 * kPi / static_cast<double>(L));
  const Tensor s = 4 * torch::sin(k / 2).square();  // 4 sin^2(k/2)
  return 1.0 / (mass * mass + s.view({L, 1}) + s.view({1, L}));
}

Tensor gaussian_free_field(int64_t n, int64_t L, double mass, uint64_t seed) {
  check_count(n, "gaussian_free_field");
  const Tensor amplitude = gff_spectrum(L, mass).sqrt();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Tensor out = torch::empty({n, L, L}, torch::kFloat64);
  constexpr int64_t kChunk = 1024;  // bounds the complex intermediates
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    const Tensor w = torch::randn({m, L, L}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    out.slice(0, i, i + m).copy_(torch::real(torch::fft::ifft2(torch::fft::fft2(w) * amplitude)));
  }
  return out;
}

double ising_critical_temperature() { return 2.0 / std::log(1.0 + std::sqrt(2.0)); }

double integrated_autocorrelation_time(const std::vector<double>& series) {
  const int64_t N = static_cast<int64_t>(series.size());
  if (N < 2) return 0.5;
  Tensor x = torch::tensor(series, torch::kFloat64);
  x = x - x.mean();
  const double c0 = x.square().mean().item<double>();
  if (!(c0 > 0)) return 0.5;
  // Autocovariance from one FFT of the series padded to 2N (no wrap-around).
  const Tensor f = torch::fft::rfft(x, 2 * N);
  const Tensor acov = torch::fft::irfft(f.abs().square(), 2 * N).slice(0, 0, N) / static_cast<double>(N);
  const Tensor rho = (acov / acov[0]).contiguous();
  const double* r = rho.data_ptr<double>();
  double tau = 0.5;
  for (int64_t t = 1; t < N; ++t) {
    tau += r[t];
    if (static_cast<double>(t) >= 6.0 * tau) break;
  }
  return std::max(tau, 0.5);
}

IsingSamples ising_wolff(int64_t n, int64_t L, double temperature, uint64_t seed, int64_t burn_in, int64_t thinning) {
  check_count(n, "ising_wolff");
  check_size(L, "ising_wolff");
  ELBO_CHECK(temperature > 0 && std::isfinite(temperature), "elbo::data::ising_wolff: data.lattice_temperature must "
             "be positive and finite (got ", temperature, ")");
  WolffChain chain(L, temperature, seed);
  IsingSamples out;
  if (burn_in < 0 || thinning < 0) {
    // Pilot: 1000 flips from the random start, then series of |m| doubled in length until
    // they span at least 500 autocorrelation times.
    for (int i = 0; i < 1000; ++i) chain.flip_cluster();
    std::vector<double> pilot;
    for (int64_t length = 10000;; length *= 2) {
      while (static_cast<int64_t>(pilot.size()) < length) {
        chain.flip_cluster();
        pilot.push_back(chain.abs_m());
      }
      out.pilot_tau = integrated_autocorrelation_time(pilot);
      if (static_cast<double>(length) >= 500 * out.pilot_tau || length >= (int64_t{1} << 22)) break;
    }
    if (burn_in < 0) burn_in = static_cast<int64_t>(std::ceil(20 * out.pilot_tau)) + 100;
    if (thinning < 0) thinning = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(2 * out.pilot_tau)));
  }
  ELBO_CHECK(thinning >= 1, "elbo::data::ising_wolff: thinning must be at least 1 (got ", thinning, ")");
  out.burn_in = burn_in;
  out.thinning = thinning;
  for (int64_t i = 0; i < burn_in; ++i) chain.flip_cluster();
  out.spins = torch::empty({n, L, L}, torch::kFloat32);
  float* dst = out.spins.data_ptr<float>();
  // |m| after every flip for tau, the first 2^22 flips at most (32 MB).
  const int64_t recorded = std::min<int64_t>(n * thinning, int64_t{1} << 22);
  std::vector<double> abs_m;
  abs_m.reserve(static_cast<size_t>(recorded));
  double sites = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t = 0; t < thinning; ++t) {
      sites += static_cast<double>(chain.flip_cluster());
      if (static_cast<int64_t>(abs_m.size()) < recorded) abs_m.push_back(chain.abs_m());
    }
    const std::vector<int8_t>& s = chain.spins();
    std::transform(s.begin(), s.end(), dst + i * L * L, [](int8_t v) { return static_cast<float>(v); });
  }
  out.tau_abs_m = integrated_autocorrelation_time(abs_m);
  out.mean_cluster_size = sites / static_cast<double>(n * thinning);
  return out;
}

Dataset make_lattice(const std::string& model, int64_t n, int64_t L, double mass, double temperature, uint64_t seed) {
  ELBO_CHECK(model == "gff" || model == "ising", "data.lattice_model must be \"gff\" or \"ising\" (got \"", model,
             "\")");
  Dataset d;
  if (model == "gff") {
    d.x = gaussian_free_field(n, L, mass, seed).to(torch::kFloat32).reshape({n, L * L});
  } else {
    d.x = ((ising_wolff(n, L, temperature, seed).spins + 1) / 2).reshape({n, L * L});  // {-1, +1} -> {0, 1}
  }
  d.image = ImageShape{1, L, L};
  d.name = "lattice-" + model;
  return d;
}

Dataset lattice_split(const Config& c, bool test) {
  ELBO_CHECK(c.get_string("data.format") == "lattice", "data.format is \"", c.get_string("data.format"),
             "\"; lattice configurations are made for data.format = \"lattice\"");
  ELBO_CHECK(c.get_string("data.lattice_model") != "file", "data.lattice_model = \"file\" reads its configurations "
             "from data.train / data.test; there is nothing to generate");
  const uint64_t stream = test ? 102 : 101;
  return make_lattice(c.get_string("data.lattice_model"), c.get_int(test ? "data.lattice_test" : "data.lattice_train"),
                      c.get_int("data.lattice_size"), c.get_double("data.lattice_mass"),
                      c.get_double("data.lattice_temperature"),
                      mix_seed(static_cast<uint64_t>(c.get_int("data.lattice_seed")), RngStream::data, stream));
}

}  // namespace elbo::data
