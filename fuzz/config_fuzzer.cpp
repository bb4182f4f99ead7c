// libFuzzer target: elbo::Config::from_toml on arbitrary text, then the
// resolved config must round-trip through to_toml; the same bytes are also
// tried as a --set assignment. std::invalid_argument is the expected refusal.
#include "elbo/core/config.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    elbo::Config c = elbo::Config::from_toml(text, "fuzz.toml");
    const std::string resolved = c.to_toml();
    if (elbo::Config::from_toml(resolved, "resolved").to_toml() != resolved) __builtin_trap();  // round trip
  } catch (const std::invalid_argument&) {
  }
  try {
    elbo::Config c;
    c.set(text);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
