#pragma once
#include "elbo/data/dataset.h"

namespace elbo::data {

/// Semi-supervised training data (Kingma et al. 2014's setting): the labels of only `labelled`
/// examples are kept, balanced over the classes (labelled / C each, the remainder to the first
/// classes), chosen with `seed`; y_mask marks them. The labelled examples then appear `repeat`
/// times in the returned set (0 = auto: round((N - L) / (9 L)), so about a tenth of each batch is
/// labelled), so every batch sees labels. With `labelled_only` the set holds only those copies
/// (a supervised baseline on the same labels). Throws std::invalid_argument when the data have no
/// labels or a class has fewer examples than its share.
Dataset keep_labels(const Dataset& train, int64_t labelled, int64_t repeat, uint64_t seed, bool labelled_only = false);

/// The same data with every label marked unknown (y_mask = 0; the labels stay for scoring).
Dataset hide_labels(Dataset data);

}  // namespace elbo::data
