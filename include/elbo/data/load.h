#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"

namespace elbo::data {

/// The three splits of a run.
struct Splits {
  Dataset train;
  Dataset validation;
  Dataset test;
  Standardization standardization;  ///< data.standardize: the training statistics (else undefined)
  Standardization target_standardization;  ///< data.standardize with data.target_columns: the targets' statistics
};

/// Loads the data a run config describes (data.* keys): IDX images (scaled to
/// [0, 1], optionally binarized), a CSV table (optionally standardized with
/// training statistics), the built-in dsprites images with their factors
/// (data/dsprites.h; data.dsprites_*), a series' windows (data/series.h) or windows of the
/// sequences of a FASTA file (data/fasta.h: data.window, data.stride, data.ambiguous; the
/// training windows followed by their reverse complements with data.reverse_complement), crystal
/// structures (data.format = "crystals": a CIF, pymatgen or ASE JSON file as rows of data/crystal_rows.h,
/// or with data.substitutions the element substitutions of its prototypes, the prototypes the test split), a test
/// split (from its own file, held out (FASTA: whole records), for dsprites its own factor
/// combinations, for the built-in lattice fields (data/lattice.h) its own draws), and a
/// validation split held out of the training examples, and the data.missing masks of each split
/// (data/missing.h; rows with nothing observed dropped). Deterministic in train.seed and data.missing_seed.
/// With `read_test_file` false, a test split in its own IDX file (data.test) is
/// left empty, its header checked, to be read after training with load_test_data
/// (less memory while training).
Splits load_data(const Config& config, bool read_test_file = true);

/// The examples of one more file in the run's data format (data.format and the CSV keys; IDX
/// images without labels; FASTA windows side by side), read as load_data reads a split but with
/// nothing hidden, dropped or standardized (elbo impute --data).
Dataset read_examples(const Config& config, const std::string& path);

/// A data file name from the config resolved against data.dir (absolute names and "" as they are).
std::string data_path(const Config& config, const std::string& name);

/// Moves the CSV columns data.target_columns names out of the features into `target` (float
/// regression targets, [N, T]). A table lacking all of them is left as it is when not `required`
/// (rows to predict); missing target cells are refused naming the row.
Dataset split_targets(Dataset table, const Config& config, bool required);

/// A CSV table read with the config's data.delimiter, data.skip_rows, data.header and
/// (with `labels`) data.label_column.
Dataset read_table(const Config& config, const std::string& path, bool labels = true);

/// Only the test split (for evaluation of a trained run), built exactly as load_data
/// builds it; reads only the test file when the test split does not depend on the
/// training data (its own file, no standardization). `standardization`, when given,
/// receives the training statistics the split was standardized with (data.standardize;
/// left empty otherwise).
Dataset load_test_data(const Config& config, Standardization* standardization = nullptr);

}  // namespace elbo::data
