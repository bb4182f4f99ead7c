// Seconds to generate 10,000 lattice configurations (data.format = "lattice"): the Gaussian free
// field sampled exactly in Fourier space, and the Ising model at T_c by Wolff cluster flips with
// the burn-in and thinning its measured autocorrelation time chose; L = 16 and 32.
// Usage: build/bench/elbo_lattice_generation
#include "elbo/data/lattice.h"

#include <chrono>
#include <cstdio>

int main() {
  using namespace elbo::data;
  auto seconds = [](auto&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (const int64_t L : {16, 32}) {
    const double gff = seconds([&] { gaussian_free_field(10000, L, 0.1, 0); });
    IsingSamples s;
    const double ising = seconds([&] { s = ising_wolff(10000, L, 2.269, 0); });
    std::printf("L = %lld: gff 10000 in %.2f s; ising 10000 at T = 2.269 in %.2f s (pilot tau %.2f, tau %.2f "
                "flips, burn-in %lld, thinning %lld, mean cluster %.1f sites)\n",
                static_cast<long long>(L), gff, ising, s.pilot_tau, s.tau_abs_m, static_cast<long long>(s.burn_in),
                static_cast<long long>(s.thinning), s.mean_cluster_size);
  }
  return 0;
}
