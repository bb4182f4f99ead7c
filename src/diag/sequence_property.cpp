#include "elbo/diag/sequence_property.h"

#include "elbo/core/check.h"
#include "elbo/data/fasta.h"

#include <cctype>

namespace elbo::diag {

std::vector<std::string> sequence_property_names() { return {"gc", "motif:<ACGT...>"}; }

torch::Tensor sequence_property(const std::string& name, const torch::Tensor& windows, const torch::Tensor& mask) {
  constexpr const char* fn = "diag::sequence_property";
  ELBO_CHECK(windows.dim() == 2, fn, ": windows must be [N, L] base indices (got ", windows.sizes(), ")");
  ELBO_CHECK(!mask.defined() || mask.sizes() == windows.sizes(), fn, ": the mask must be ", windows.sizes(), " (got ",
             mask.sizes(), ")");
  const torch::Tensor x = windows.to(torch::kLong);
  const torch::Tensor known = mask.defined() ? mask != 0 : torch::ones_like(x, torch::kBool);
  if (name == "gc") {
    const torch::Tensor gc = ((x == 1) | (x == 2)) & known;
    return gc.sum(1).to(torch::kDouble) / known.sum(1).to(torch::kDouble);  // 0 / 0 = NaN: no known base
  }
  const std::string prefix = "motif:";
  if (name.rfind(prefix, 0) == 0) {
    const std::string motif = name.substr(prefix.size());
    const int64_t m = static_cast<int64_t>(motif.size()), length = x.size(1);
    ELBO_CHECK(m >= 1, fn, ": the motif of '", name, "' is empty (e.g. motif:TATA)");
    ELBO_CHECK(m <= length, fn, ": the motif of '", name, "' is longer than the windows (", length, " bases)");
    torch::Tensor hit = torch::ones({x.size(0), length - m + 1}, torch::kBool);
    for (int64_t k = 0; k < m; ++k) {
      const int b = data::base_index(motif[k]);
      ELBO_CHECK(b >= 0 && std::isupper(static_cast<unsigned char>(motif[k])) && motif[k] != 'U', fn,
                 ": the motif of '", name, "' may hold only A, C, G, T (got '", motif[k], "')");
      hit &= (x.slice(1, k, length - m + 1 + k) == b) & known.slice(1, k, length - m + 1 + k);
    }
    return hit.sum(1).to(torch::kDouble);
  }
  std::string valid;
  for (const auto& v : sequence_property_names()) valid += (valid.empty() ? "" : ", ") + v;
  ELBO_CHECK(false, fn, ": unknown property '", name, "' of a DNA sequence; valid: ", valid);
  return {};
}

}  // namespace elbo::diag
