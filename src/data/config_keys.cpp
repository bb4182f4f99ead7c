#include "elbo/data/config_keys.h"

namespace elbo::data {

std::vector<ConfigKey> config_keys() {
  using S = std::string;
  using L = std::vector<int64_t>;
  return {
      {"data.format", S("idx"), "file format of the data set (dsprites: built-in synthetic images with known factors; "
       "lattice: built-in lattice fields, data.lattice_*; series: a CSV time series cut into windows, "
       "data.time_column ...; fasta: DNA sequences, plain or gzip, cut into windows of data.window bases, x = base "
       "index A0 C1 G2 T3; crystals: crystal structures from a CIF, pymatgen or ASE JSON file, data.max_atoms ...)", -1e300, 1e300,
       {"idx", "csv", "dsprites", "series", "fasta", "lattice", "crystals"}},
      {"data.max_atoms", int64_t{20}, "crystals: atoms per cell at most (the padded width; a larger structure in a "
       "file is refused, a larger prototype under data.substitutions left out)", 1, 1000},
      {"data.substitutions", int64_t{0}, "crystals: > 0 = data.train holds prototypes (e.g. pymatgen's "
       "aflow_prototypes.json): the training set is up to this many element substitutions of each "
       "(data/crystal_substitution.h; plausible, not relaxed by DFT) and, with data.test = \"\", the prototypes "
       "themselves are the test set; 0 = the structures of data.train as they are", 0, 1e6},
      {"data.substitution_seed", int64_t{0}, "crystals: seed of the substitutions (the same data for every train.seed)",
       0, 9.2e18},
      {"data.wrap_coordinates", true, "crystals: CIF fractional coordinates outside [0, 1) are wrapped into the cell "
       "with a note (true) or refused (false)"},
      {"data.origin_shift", false, "crystals: augmentation: each training batch's crystals get a random origin (every "
       "atom shifted by one uniform vector, wrapped, atoms re-sorted into canonical order); not validation or test"},
      {"data.lattice_model", S("gff"), "lattice: the field (data/lattice.h): gff = massive Gaussian free field, exact "
       "(use model.likelihood = \"gaussian\"); ising = 2-D Ising spins by Wolff cluster flips, as {0, 1}; file = "
       "configurations read from data.train / data.test (CSV rows or IDX examples of L^2 values, as elbo lattice "
       "writes them; spins if every value is 0 or 1)",
       -1e300, 1e300, {"gff", "ising", "file"}},
      {"data.lattice_size", int64_t{16}, "lattice: side L of the periodic L x L lattice (at least 2)", -1e18, 1e18},
      {"data.lattice_mass", 0.1, "lattice, gff: mass m > 0, S(k) = 1 / (m^2 + 4 sin^2(kx/2) + 4 sin^2(ky/2))",
       -1e300, 1e300},
      {"data.lattice_temperature", 2.269, "lattice, ising: temperature T > 0 (J = 1; T_c = 2.269185)", -1e300, 1e300},
      {"data.lattice_train", int64_t{10000}, "lattice: training configurations (validation included)", 1, 1e9},
      {"data.lattice_test", int64_t{2000}, "lattice: test configurations (their own random stream)", 1, 1e9},
      {"data.lattice_blocks", L{}, "lattice: block-spin factors b of the coarse-grained spectra in elbo evaluate, each "
       "dividing L ([] = those of 2, 4, 8 that do)", 1, 1e6},
      {"data.lattice_seed", int64_t{0}, "lattice: seed of the configurations (the same data for every train.seed)", 0,
       9.2e18},
      {"data.dsprites_size", int64_t{20000}, "dsprites: training examples (validation included), distinct factor "
       "combinations of the 73728", 1, 73728},
      {"data.dsprites_test", int64_t{5000}, "dsprites: test examples, combinations no training example has", 1, 73728},
      {"data.dsprites_seed", int64_t{0}, "dsprites: seed of the factor draw (the same data for every train.seed)", 0, 9.2e18},
      {"data.dir", S("/usr/share/datasets/fashion-mnist"), "directory the file names below are relative to"},
      {"data.train", S("train-images-idx3-ubyte.gz"), "training examples (IDX images, CSV table or FASTA file)"},
      {"data.train_labels", S("train-labels-idx1-ubyte.gz"), "IDX labels of the training examples (\"\" = none)"},
      {"data.test", S("t10k-images-idx3-ubyte.gz"), "test examples (\"\" = split off data.test_fraction; fasta: of "
       "the records, whole)"},
      {"data.test_labels", S("t10k-labels-idx1-ubyte.gz"), "IDX labels of the test examples (\"\" = none)"},
      {"data.test_fraction", 0.2, "fraction of data.train held out as test set when data.test is \"\"", 0.0, 0.9},
      {"data.validation", int64_t{5000}, "training examples held out for validation each epoch", 0, 1e9},
      {"data.max_train", int64_t{0}, "use only the first N training examples (0 = all)", 0, 1e12},
      {"data.max_test", int64_t{0}, "use only the first N test examples (0 = all)", 0, 1e12},
      {"data.binarize", S("none"), "binarization of [0,1] pixels", -1e300, 1e300, {"none", "static", "dynamic"}},
      {"data.standardize", false, "standardize CSV columns (statistics from the training split)"},
      {"data.delimiter", S(","), "CSV cell delimiter (one character)"},
      {"data.skip_rows", int64_t{0}, "CSV lines to skip before the header/data", 0, 1e9},
      {"data.header", S("auto"), "CSV header row", -1e300, 1e300, {"auto", "yes", "no"}},
      {"data.label_column", int64_t{0}, "CSV label column: 0 = none, k = k-th (1-based), -1 = last", -1e9, 1e9},
      {"data.target_columns", S(""), "CSV: float regression targets, comma-separated header names or 1-based indices "
       "(taken out of the inputs; standardized with data.standardize)"},
      {"data.time_column", S("1"), "series: the time column (header name or 1-based index), strictly increasing"},
      {"data.value_columns", S(""), "series: the value columns (names, indices or ranges a-b; \"\" = all but the time)"},
      {"data.test_from", 0.0, "series: rows with time >= this are held out (the test windows and the forecast's truth)"},
      {"data.window", int64_t{32}, "series: time steps per training window; fasta: bases per window", 2, 1e6},
      {"data.stride", int64_t{1}, "series, fasta: steps (bases) between the starts of training windows (fasta's test "
       "windows do not overlap)", 1, 1e6},
      {"data.ambiguous", S("mask"), "fasta: a base other than A, C, G, T (N, another IUPAC code, '-') is masked (mask) "
       "or drops its window (drop)", -1e300, 1e300, {"mask", "drop"}},
      {"data.reverse_complement", false, "fasta: add each training window's reverse complement to the training data "
       "(not to validation or test)"},
      {"data.difference", int64_t{0}, "series: model the differences x_t - x_{t-lag} at this lag (0 = the values; 1 = "
       "first differences, for a trend; the season's length, e.g. 52 for weekly data, for a trend and a season); "
       "forecasts are summed back into values", 0, 1e6},
      {"data.fill", S("none"), "series: missing values are an error (none) or interpolated linearly in time (linear)",
       -1e300, 1e300, {"none", "linear"}},
      {"data.labelled", int64_t{0}, "semi-supervised: keep the labels of only N training examples, balanced over the "
       "classes and chosen with train.seed (0 = keep all labels)", 0, 1e12},
      {"data.labelled_repeat", int64_t{0}, "semi-supervised: the labelled examples appear this many times per epoch "
       "(0 = auto: about a tenth of each batch is labelled)", 0, 1e9},
      {"data.missing", S("none"), "hide entries of complete data, keeping them to score imputations (each split its own "
       "masks): mcar = each entry with probability data.missing_rate, block = a square of side data.missing_block per "
       "image, bottom_half = the lower half of each image, columns = data.missing_columns of a table", -1e300, 1e300,
       {"none", "mcar", "block", "bottom_half", "columns"}},
      {"data.missing_rate", 0.2, "data.missing = \"mcar\": probability in [0, 1) that an entry is hidden", 0.0, 1.0},
      {"data.missing_block", int64_t{14}, "data.missing = \"block\": side of the hidden square in pixels", 1, 1e6},
      {"data.missing_columns", S(""), "data.missing = \"columns\": comma-separated CSV header names or 1-based feature "
       "indices hidden in every row"},
      {"data.missing_rows", 1.0, "fraction of the examples data.missing applies to, each drawn independently (the "
       "others stay complete; e.g. 0.5 with bottom_half, so that the model sees complete images too)", 0.0, 1.0},
      {"data.missing_seed", int64_t{1}, "seed of the data.missing masks (independent of train.seed)", 0, 9.2e18},
      // [[data.modalities]]: one table per kind of measurement of the same rows (model.type = "multimodal")
      {"data.modalities[].name", S(""), "modality: its name (unique; elbo predict --from/--to use it)"},
      {"data.modalities[].file", S(""), "modality: its training rows, a CSV table or IDX file aligned row by row with "
       "the other modalities' (relative to data.dir)"},
      {"data.modalities[].test", S(""), "modality: its test rows (\"\" = every modality's test rows are held out "
       "by data.test_fraction)"},
      {"data.modalities[].columns", S(""), "modality: CSV columns it takes (header names, 1-based indices or ranges "
       "a-b, comma-separated; \"\" = all)"},
      {"data.modalities[].image_columns", L{}, "modality: IDX images, the pixel columns [first, end) it takes "
       "(e.g. [0, 14] = the left half of 28x28 images; [] = all)", 0, 1e6},
      {"data.modalities[].presence_column", S(""), "modality: a CSV column (name or 1-based index) that is 1 where "
       "the modality was measured and 0 where not (\"\" = absent where a row's cells are all empty)"},
      {"data.modalities[].likelihood", S("gaussian"), "modality: p(x_m | z)", -1e300, 1e300,
       {"bernoulli", "continuous_bernoulli", "gaussian", "laplace", "categorical", "poisson", "negative_binomial"}},
      {"data.modalities[].categories", int64_t{0}, "modality: classes of a categorical modality (0 = the largest "
       "training value + 1)", 0, 1e6},
      {"data.modalities[].standardize", false, "modality: zero mean, unit variance per column (training statistics)"},
      {"data.modalities[].binarize", false, "modality: one Bernoulli draw per value in [0, 1], made once (seeded)"},
      {"data.modalities[].width", int64_t{0}, "modality: its columns, recorded from the data when a run starts (0 = "
       "from the data)", 0, 1e12},
      {"data.modalities[].image", L{}, "modality: [channels, height, width] of an image modality, recorded from the "
       "data when a run starts", 1, 1e6},
      {"data.modalities[].hidden", L{}, "modality: hidden widths of its encoder expert (its decoder mirrors them; "
       "[] = model.hidden)", 1, 1e6},
  };
}

}  // namespace elbo::data
