#pragma once
// Exact properties of DNA windows (x = base indices A0 C1 G2 T3, data/fasta.h): the oracles that
// inverse design (run/design.h) measures its decoded sequences with.
#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::diag {

/// The property names sequence_property knows, for messages: "gc", "motif:<ACGT...>".
std::vector<std::string> sequence_property_names();

/// The property `name` of each window [N] (double) for windows [N, L] of base indices and a mask
/// [N, L] (1 = known base; undefined = all known):
///  - "gc": the fraction of G or C among the known bases (NaN for a window with none);
///  - "motif:ACGT...": occurrences of the motif on the forward strand, overlapping ones counted
///    ("AAA" occurs twice in "AAAA"), at known bases only.
/// Throws std::invalid_argument for an unknown name (listing the valid ones), a motif with a letter
/// other than A, C, G, T or longer than the windows, and windows that are not [N, L].
torch::Tensor sequence_property(const std::string& name, const torch::Tensor& windows, const torch::Tensor& mask = {});

}  // namespace elbo::diag
