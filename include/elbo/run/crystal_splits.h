#pragma once
// The structures a crystal run learned from and was tested on, out of the run: its data splits rebuilt
// as elbo train built them (data.substitutions, data.max_atoms, the validation split of train.seed),
// for measures against the training set (coverage, novelty: bench/crystal_metrics.py).
#include "elbo/core/config.h"
#include "elbo/data/crystal.h"

#include <string>
#include <vector>

namespace elbo::run {

/// The structures of one split ("train", "validation" or "test") of a crystal run's config
/// (data.format = "crystals"), rebuilt by data::load_data, in the split's order and named
/// <split>1, <split>2, ... (data::row_structures: canonical atom order, right-handed cells; the rows
/// are float32, so coordinates and lattices carry ~1e-7 relative rounding). The test split is the one
/// elbo reconstruct reads, so test<i> is the input of reconstruction<i>. Throws std::invalid_argument
/// for a run that is not a crystal run or another split name.
std::vector<data::Structure> split_structures(const Config& config, const std::string& split);

}  // namespace elbo::run
