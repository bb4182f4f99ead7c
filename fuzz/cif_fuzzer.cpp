// libFuzzer target: elbo::data::parse_cif on arbitrary text (max_atoms 64), then the geometry of
// every structure it accepts and the P1 CIF writer read back. std::invalid_argument is the expected
// refusal; an accepted structure must be a valid cell with 1..64 atoms of known elements in [0, 1).
#include "elbo/data/cif.h"
#include "elbo/data/elements.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  elbo::data::CifOptions options;
  options.max_atoms = 64;
  options.wrap_coordinates = size % 2 == 0;
  elbo::data::CifData cif;
  try {
    cif = elbo::data::parse_cif(text, "fuzz.cif", options);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  if (cif.structures.empty()) __builtin_trap();
  for (const elbo::data::Structure& s : cif.structures) {
    if (s.size() < 1 || s.size() > 64 || s.frac.size() != s.species.size()) __builtin_trap();
    if (!(elbo::data::volume(s.lattice) > 0)) __builtin_trap();
    for (int z : s.species)
      if (z < 1 || z > elbo::data::kMaxAtomicNumber) __builtin_trap();
    for (const auto& f : s.frac)
      for (double v : f)
        if (!(v >= 0 && v < 1)) __builtin_trap();
    const double d = elbo::data::min_interatomic_distance(s);
    if (!(d >= 0) || !std::isfinite(d)) __builtin_trap();
    // Read back without merging: the P1 file lists every atom, and 8 decimals of a fractional
    // coordinate may move two atoms of a huge cell within merge_tolerance of each other.
    elbo::data::CifOptions exact;
    exact.merge_tolerance = 0;
    const elbo::data::Structure back =
        elbo::data::parse_cif(elbo::data::format_cif(s), "written.cif", exact).structures.at(0);
    if (back.size() != s.size()) __builtin_trap();
  }
  return 0;
}
