#include "elbo/data/load.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/crystal_json.h"
#include "elbo/data/crystal_rows.h"
#include "elbo/data/crystal_substitution.h"
#include "elbo/data/csv.h"
#include "elbo/data/dsprites.h"
#include "elbo/data/fasta.h"
#include "elbo/data/idx.h"
#include "elbo/data/labelled.h"
#include "elbo/data/lattice.h"
#include "elbo/data/missing.h"
#include "elbo/data/multimodal.h"
#include "elbo/data/series.h"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace elbo::data {
namespace {

std::string resolve(const Config& c, const std::string& key) { return data_path(c, c.get_string(key)); }

/// IDX images [N, H, W] or [N, H, W, C] (+ optional labels) as a flat data set.
Dataset read_idx_images(const std::string& images_path, const std::string& labels_path) {
  torch::Tensor raw = read_idx(images_path);
  ELBO_CHECK(raw.dim() == 3 || raw.dim() == 4, images_path, ": expected images [N, H, W] or [N, H, W, C], got ",
             raw.sizes());
  ELBO_CHECK(raw.size(0) > 0, images_path, ": no images (shape ", raw.sizes(), ")");
  ELBO_CHECK(raw.numel() > 0, images_path, ": empty images (shape ", raw.sizes(), ")");
  if (raw.is_floating_point()) {
    const torch::Tensor flat = raw.reshape({raw.size(0), -1});
    const torch::Tensor bad = (~torch::isfinite(flat)).nonzero();  // [n_bad, 2]: example, feature
    if (bad.size(0) > 0) {
      const int64_t example = bad[0][0].item<int64_t>(), feature = bad[0][1].item<int64_t>();
      ELBO_CHECK(false, images_path, ": non-finite value (", flat[example][feature].item<double>(), ") in example ",
                 example + 1, ", element ", feature + 1, "; image data must be finite");
    }
  }
  if (raw.dim() == 4) raw = raw.permute({0, 3, 1, 2}).contiguous();  // channels first
  if (raw.scalar_type() != torch::kUInt8) raw = raw.to(torch::kFloat);  // 8-bit intensities stay uint8 (Dataset::x)
  Dataset d;
  d.image = raw.dim() == 4 ? ImageShape{raw.size(1), raw.size(2), raw.size(3)} : ImageShape{1, raw.size(1), raw.size(2)};
  // Flattened in place: a reshaped view would keep the unflattened tensor alive as its
  // base, and split_validation could then not permute the examples in place.
  const int64_t n = raw.size(0), features = raw.numel() / n;
  d.x = raw.set_(raw.storage(), 0, {n, features}, {features, 1});
  d.name = images_path;
  if (!labels_path.empty()) {
    torch::Tensor labels = read_idx(labels_path);
    ELBO_CHECK(labels.dim() == 1 && labels.size(0) == d.size(), labels_path, ": expected ", d.size(),
               " labels (one per image in ", images_path, "), got shape ", labels.sizes());
    d.y = labels.to(torch::kLong);
  }
  return d;
}

}  // namespace

std::string data_path(const Config& c, const std::string& name) {
  if (name.empty() || name.front() == '/') return name;
  const std::string& dir = c.get_string("data.dir");
  return dir.empty() ? name : dir + "/" + name;
}

Dataset read_table(const Config& c, const std::string& path, bool labels) {
  CsvOptions o;
  const std::string& delimiter = c.get_string("data.delimiter");
  ELBO_CHECK(delimiter.size() == 1, "data.delimiter must be one character (got \"", delimiter, "\")");
  o.delimiter = delimiter[0];
  o.skip_rows = c.get_int("data.skip_rows");
  o.header = c.get_string("data.header");
  const int64_t label = labels ? c.get_int("data.label_column") : 0;
  if (label > 0) o.label_column = label - 1;
  else if (label < 0) o.label_column = label;
  return read_csv(path, o);
}

Dataset split_targets(Dataset table, const Config& c, bool required) {
  const std::string& spec = c.get_string("data.target_columns");
  if (spec.empty()) return table;
  if (!required) {  // rows to predict may come without their targets
    bool any = false;
    std::istringstream in(spec);
    for (std::string cell; std::getline(in, cell, ',');)
      any |= std::find(table.feature_names.begin(), table.feature_names.end(), cell) != table.feature_names.end();
    if (!any && !table.feature_names.empty()) return table;
  }
  const std::vector<int64_t> columns = column_indices(table, spec, "data.target_columns");
  ELBO_CHECK(static_cast<int64_t>(columns.size()) < table.features(), "data.target_columns takes every column of '",
             table.name, "': nothing is left as input");
  std::vector<int64_t> keep;
  for (int64_t j = 0; j < table.features(); ++j)
    if (std::find(columns.begin(), columns.end(), j) == columns.end()) keep.push_back(j);
  const torch::Tensor t = torch::tensor(columns, torch::kLong), k = torch::tensor(keep, torch::kLong);
  if (table.mask.defined()) {
    const torch::Tensor missing = (table.mask.index_select(1, t) == 0).any(1).nonzero();
    ELBO_CHECK(missing.size(0) == 0, table.name, ": example ", missing.size(0) ? missing[0][0].item<int64_t>() + 1 : 0,
               " has no value in a column of data.target_columns; a regression target must be present in every row");
    table.mask = table.mask.index_select(1, k);
    if ((table.mask > 0).all().item<bool>()) table.mask = torch::Tensor();
  }
  table.target = table.x.index_select(1, t).to(torch::kFloat);
  table.x = table.x.index_select(1, k);
  std::vector<std::string> names;
  for (int64_t j : keep)
    if (j < static_cast<int64_t>(table.feature_names.size())) names.push_back(table.feature_names[j]);
  table.feature_names = names;
  return table;
}

namespace {

bool series(const Config& c) { return c.get_string("data.format") == "series"; }
bool fasta(const Config& c) { return c.get_string("data.format") == "fasta"; }
bool crystals(const Config& c) { return c.get_string("data.format") == "crystals"; }

/// The structures of a crystal file (CIF, pymatgen or ASE JSON; data/crystal_json.h) with at most
/// max_atoms atoms each (0: any) and data.wrap_coordinates; its notes (wrapped coordinates) go to stderr.
std::vector<Structure> read_crystal_file(const Config& c, const std::string& path, int64_t max_atoms) {
  ELBO_CHECK(!c.get_bool("data.standardize") && c.get_string("data.binarize") == "none" &&
                 c.get_string("data.missing") == "none",
             "data.format = \"crystals\" gives each crystal as its lattice, atom count, species and coordinates: "
             "data.standardize must be false, data.binarize and data.missing \"none\"");
  CifOptions o;
  o.max_atoms = max_atoms;
  o.wrap_coordinates = c.get_bool("data.wrap_coordinates");
  std::vector<std::string> notes;
  std::vector<Structure> structures = read_structures(path, o, &notes);
  for (const std::string& note : notes) std::cerr << "elbo: note: " << note << "\n";
  return structures;
}

/// A crystal file as a data set of padded rows (data/crystal_rows.h), data.max_atoms wide.
Dataset crystal_file(const Config& c, const std::string& path) {
  const int64_t max_atoms = c.get_int("data.max_atoms");
  return crystal_dataset(read_crystal_file(c, path, max_atoms), max_atoms, path);
}

void hold_out_test(Dataset& all, Dataset& test, const Config& c, uint64_t seed);

/// data.format = "crystals": the structures of data.train, or with data.substitutions > 0 the element
/// substitutions of its prototypes (the prototypes held out as the test set unless data.test names a file).
void crystal_splits(const Config& c, Dataset& all, Dataset& test, uint64_t seed) {
  const std::string path = data_path(c, c.get_string("data.train"));
  const int64_t max_atoms = c.get_int("data.max_atoms");
  const bool own_test = !c.get_string("data.test").empty();
  if (const int64_t per = c.get_int("data.substitutions"); per > 0) {
    SubstitutionOptions o;
    o.per_prototype = per;
    o.max_atoms = max_atoms;
    o.seed = static_cast<uint64_t>(c.get_int("data.substitution_seed"));
    const SubstitutionSet set = substitution_set(read_crystal_file(c, path, 0), o);
    ELBO_CHECK(!set.train.empty(), path, ": no prototype could be substituted (", set.over_max_atoms,
               " over data.max_atoms = ", max_atoms, ", ", set.without_substitute, " without a substitute, ", set.crowded,
               " crowded)");
    all = crystal_dataset(set.train, max_atoms, path + " (substituted)");
    if (!own_test) test = crystal_dataset(set.held_out, max_atoms, path + " (prototypes, held out)");
  } else {
    all = crystal_file(c, path);
    if (!own_test) hold_out_test(all, test, c, seed);
  }
  if (own_test) test = crystal_file(c, data_path(c, c.get_string("data.test")));
}

/// data.lattice_model = "file": one L x L configuration per row of a CSV file (L^2 numbers, read as data.header
/// and data.delimiter say) or per example of an IDX file ([N, L, L] or [N, L * L]), as `elbo lattice` writes them.
Dataset read_lattice_file(const Config& c, const std::string& path) {
  const int64_t L = c.get_int("data.lattice_size");
  ELBO_CHECK(L >= 2, "data.lattice_size must be at least 2 (got ", L, ")");
  const bool csv = path.size() >= 4 && (path.compare(path.size() - 4, 4, ".csv") == 0 ||
                                        (path.size() >= 7 && path.compare(path.size() - 7, 7, ".csv.gz") == 0));
  Dataset d;
  if (csv) {
    d = read_table(c, path, false);
  } else {
    torch::Tensor raw = read_idx(path);
    ELBO_CHECK(raw.dim() >= 2 && raw.size(0) >= 1, path, ": expected configurations [N, L, L] or [N, L*L], got ",
               raw.sizes());
    d.x = raw.reshape({raw.size(0), -1});
    d.name = path;
  }
  ELBO_CHECK(d.features() == L * L, path, ": a configuration has ", d.features(), " values, but data.lattice_size = ",
             L, " needs L^2 = ", L * L, " (one L x L field per row)");
  ELBO_CHECK(torch::isfinite(d.x).all().item<bool>(), path, ": non-finite values; lattice fields must be finite");
  d.image = {1, L, L};
  d.x = d.x.to(torch::kFloat).contiguous();
  d.feature_names.clear();
  return d;
}

/// Holds data.test_fraction of `all` out as the test split (seeded by train.seed).
void hold_out_test(Dataset& all, Dataset& test, const Config& c, uint64_t seed) {
  const int64_t held = static_cast<int64_t>(c.get_double("data.test_fraction") * static_cast<double>(all.size()));
  ELBO_CHECK(held >= 1, "data.test is \"\" but data.test_fraction = ", c.get_double("data.test_fraction"), " of ",
             all.size(), " examples holds out no test example");
  TrainValidation tt = split_validation(std::move(all), held, mix_seed(seed, RngStream::data, 1));
  all = tt.train;
  test = tt.validation;
}

/// Windows of FASTA records with data.window and data.ambiguous: training windows data.stride
/// apart, test windows (and elbo impute --data's) side by side, none overlapping another.
Dataset fasta_windows(const Config& c, const std::vector<FastaRecord>& records, const std::string& name, bool training) {
  ELBO_CHECK(!c.get_bool("data.standardize") && c.get_string("data.binarize") == "none" &&
                 c.get_string("data.missing") == "none",
             "data.format = \"fasta\" gives each base as its index A0 C1 G2 T3 (ambiguous bases masked): "
             "data.standardize must be false, data.binarize and data.missing \"none\"");
  WindowOptions o;
  o.window = c.get_int("data.window");
  o.stride = training ? c.get_int("data.stride") : o.window;
  o.drop_ambiguous = c.get_string("data.ambiguous") == "drop";
  return sequence_windows(records, o, name);
}

Dataset read_split(const Config& c, const std::string& file_key, const std::string& labels_key) {
  const std::string path = resolve(c, file_key);
  if (c.get_string("data.format") == "csv") return split_targets(read_table(c, path), c, true);
  if (crystals(c)) return crystal_file(c, path);
  return read_idx_images(path, resolve(c, labels_key));
}

Dataset head(const Dataset& d, int64_t max) {
  return max > 0 && max < d.size() ? d.subset(torch::arange(max, torch::kLong)) : d;
}

/// Elements per example of an IDX shape [N, ...].
int64_t features_per_example(const std::vector<int64_t>& shape) {
  int64_t features = 1;
  for (size_t d = 1; d < shape.size(); ++d) features *= shape[d];
  return features;
}

bool multimodal(const Config& c) { return c.count("data.modalities") > 0; }

/// Whether every modality names its test file (false: none does; some but not all is refused).
bool modalities_have_test_files(const Config& c) {
  int64_t with = 0;
  const int64_t n = c.count("data.modalities");
  for (int64_t i = 0; i < n; ++i) with += !c.get_string("data.modalities[" + std::to_string(i) + "].test").empty();
  ELBO_CHECK(with == 0 || with == n, with, " of the ", n, " [[data.modalities]] name a test file: give every "
             "modality its test rows, or none (then data.test_fraction of the rows are held out)");
  return with == n;
}

/// Whether the test split comes from its own file (not held out of the training data).
bool test_has_own_file(const Config& c) {
  if (series(c)) return false;
  if (multimodal(c)) return modalities_have_test_files(c);
  return c.get_string("data.format") != "dsprites" && c.get_string("data.format") != "lattice" &&
         !c.get_string("data.test").empty();
}

constexpr uint64_t kTestBinarizeSeed = 4;
constexpr uint64_t kTrainSplit = 1, kValidationSplit = 2, kTestSplit = 3;  // data.missing's mask streams

}  // namespace

Splits load_data(const Config& c, bool read_test_file) {
  const uint64_t seed = static_cast<uint64_t>(c.get_int("train.seed"));
  Splits s;
  Dataset all;
  if (c.get_string("data.format") == "dsprites") {
    // Training examples are the first, test examples the last cells of one seeded order: disjoint.
    const int64_t n = c.get_int("data.dsprites_size"), n_test = c.get_int("data.dsprites_test");
    ELBO_CHECK(n + n_test <= kDspritesCells, "data.dsprites_size (", n, ") + data.dsprites_test (", n_test,
               ") exceeds the ", kDspritesCells, " distinct dsprites factor combinations");
    const uint64_t data_seed = static_cast<uint64_t>(c.get_int("data.dsprites_seed"));
    all = make_dsprites(0, n, data_seed);
    s.test = make_dsprites(kDspritesCells - n_test, kDspritesCells, data_seed);
  } else if (c.get_string("data.format") == "lattice" && c.get_string("data.lattice_model") == "file") {
    all = read_lattice_file(c, resolve(c, "data.train"));
    if (c.get_string("data.test").empty()) hold_out_test(all, s.test, c, seed);
    else s.test = read_lattice_file(c, resolve(c, "data.test"));
  } else if (c.get_string("data.format") == "lattice") {
    all = lattice_split(c, false);  // built in (data/lattice.h)
    s.test = lattice_split(c, true);
  } else if (series(c)) {  // windows of the series in model units (data/series.h)
    ELBO_CHECK(!c.get_bool("data.standardize"), "data.format = \"series\" standardizes each value column with its "
               "training rows already; remove data.standardize");
    SeriesSplits windows = series_splits(c);
    all = std::move(windows.train);
    s.test = std::move(windows.test);
  } else if (crystals(c)) {
    crystal_splits(c, all, s.test, seed);
  } else if (fasta(c)) {  // windows of whole records: no test window shares a base with a training window
    const std::string path = resolve(c, "data.train");
    std::vector<FastaRecord> records = read_fasta(path);
    if (test_has_own_file(c)) {
      all = fasta_windows(c, records, path, true);
      s.test = fasta_windows(c, read_fasta(resolve(c, "data.test")), resolve(c, "data.test"), false);
    } else {
      ELBO_CHECK(records.size() >= 2, path, ": one record ('", records[0].name, "'): data.test = \"\" holds out whole "
                 "records, so give the test sequences their own file in data.test");
      SequenceSplit split = split_records(std::move(records), c.get_double("data.test_fraction"),
                                          mix_seed(seed, RngStream::data, 1));
      all = fasta_windows(c, split.train, path + " (training records)", true);
      s.test = fasta_windows(c, split.test, path + " (test records)", false);
    }
  } else {
    all = multimodal(c) ? read_modalities(c, false) : read_split(c, "data.train", "data.train_labels");
    if (multimodal(c) && test_has_own_file(c)) {
      Config resolved = c;  // the test rows are read with the training rows' widths and classes
      record_modalities(resolved, all.modalities);
      s.test = read_modalities(resolved, true);
    } else if (!test_has_own_file(c)) {
      hold_out_test(all, s.test, c, seed);
    } else {
      // A test IDX file may be left to read after training (load_test_data); its header is checked now.
      const bool read_now = read_test_file || c.get_string("data.format") == "csv";
      if (read_now) s.test = read_split(c, "data.test", "data.test_labels");
      const std::string path = resolve(c, "data.test");
      const int64_t features = read_now ? s.test.features() : features_per_example(read_idx_shape(path));
      ELBO_CHECK(features == all.features(), "test data '", path, "' has ", features,
                 " features per example, training data '", all.name, "' has ", all.features());
    }
  }
  if (c.get_string("data.format") == "lattice")
    for (int64_t b : c.get_ints("data.lattice_blocks"))
      ELBO_CHECK(all.image.height % b == 0 && all.image.height / b >= 2, "data.lattice_blocks: L = ", all.image.height,
                 " (data.lattice_size) is not a multiple of the block-spin factor ", b, " with at least 2 blocks a side");
  all = head(all, c.get_int("data.max_train"));
  if (s.test.x.defined()) s.test = head(s.test, c.get_int("data.max_test"));

  const int64_t validation = c.get_int("data.validation");
  ELBO_CHECK(validation < all.size(), "data.validation = ", validation, " must be smaller than the number of training examples (",
             all.size(), " in '", all.name, "')");
  TrainValidation tv = split_validation(std::move(all), validation, mix_seed(seed, RngStream::data, 2));
  // Each split gets its own masks; rows left with nothing observed are dropped (and counted).
  const MissingOptions missing = MissingOptions::from_config(c);
  s.train = drop_empty_rows(hide_entries(tv.train, missing, kTrainSplit));
  s.validation = drop_empty_rows(hide_entries(tv.validation, missing, kValidationSplit));
  if (s.test.x.defined()) s.test = drop_empty_rows(hide_entries(s.test, missing, kTestSplit));
  if (fasta(c) && c.get_bool("data.reverse_complement")) s.train = reverse_complements(s.train);  // not validation

  if (multimodal(c)) {
    ELBO_CHECK(!c.get_bool("data.standardize") && c.get_string("data.binarize") == "none",
               "data.standardize and data.binarize apply to single-input data; with [[data.modalities]] set "
               "standardize or binarize in each modality's table");
    s.standardization = standardize_modalities(s.train);
    apply_standardization(s.validation, s.standardization);
    if (s.test.x.defined()) apply_standardization(s.test, s.standardization);
    binarize_modalities(s.train, mix_seed(seed, RngStream::data, 5));
    binarize_modalities(s.validation, mix_seed(seed, RngStream::data, 3));
    if (s.test.x.defined()) binarize_modalities(s.test, mix_seed(0, RngStream::data, kTestBinarizeSeed));
  }
  if (c.get_bool("data.standardize")) {  // statistics of the observed training entries
    s.standardization = standardize(s.train);
    apply_standardization(s.validation, s.standardization);
    if (s.test.x.defined()) apply_standardization(s.test, s.standardization);
    if (s.train.target.defined()) {  // regression targets too, so that unit priors and noise scales fit them
      Dataset targets;  // the targets' statistics by the same rule as the inputs'
      targets.x = s.train.target.clone();
      s.target_standardization = standardize(targets);
      for (Dataset* d : {&s.train, &s.validation, &s.test})
        if (d->target.defined()) d->target = (d->target - s.target_standardization.mean) / s.target_standardization.std;
    }
  }
  const Binarization bin = parse_binarization(c.get_string("data.binarize"));
  if (bin != Binarization::none) {
    // Held-out splits are binarized once with fixed seeds so their numbers are comparable across runs.
    s.validation = binarize_static(s.validation, mix_seed(seed, RngStream::data, 3));
    if (s.test.x.defined()) s.test = binarize_static(s.test, mix_seed(0, RngStream::data, kTestBinarizeSeed));
    if (bin == Binarization::fixed) s.train = binarize_static(s.train, mix_seed(seed, RngStream::data, 5));
    else s.train.dynamic_binarize = true;
  }
  const std::string& type = c.get_string("model.type");
  if (const int64_t labelled = c.get_int("data.labelled"); labelled > 0)
    s.train = keep_labels(s.train, labelled, c.get_int("data.labelled_repeat"), mix_seed(seed, RngStream::data, 6),
                          type == "classifier");
  if (type == "m2") {  // held-out labels are for scoring the classifier: the bound sums them out
    s.validation = hide_labels(std::move(s.validation));
    if (s.test.x.defined()) s.test = hide_labels(std::move(s.test));
  }
  return s;
}

Dataset read_examples(const Config& c, const std::string& path) {
  ELBO_CHECK(!multimodal(c), "a multimodal run reads its rows from each modality's file; --data is for single-input runs");
  ELBO_CHECK(c.get_string("data.format") != "dsprites", "data.format = \"dsprites\" is built in; it has no files to read");
  if (c.get_string("data.format") == "lattice" && c.get_string("data.lattice_model") == "file")
    return read_lattice_file(c, path);
  ELBO_CHECK(c.get_string("data.format") != "lattice", "data.lattice_model = \"", c.get_string("data.lattice_model"),
             "\" is built in; it has no files to read (data.lattice_model = \"file\" reads them)");
  ELBO_CHECK(!series(c), "a series run has no rows to predict from a file; elbo forecast RUN --horizon H continues it");
  if (fasta(c)) return fasta_windows(c, read_fasta(path), path, false);
  if (crystals(c)) return crystal_file(c, path);
  return c.get_string("data.format") == "csv" ? split_targets(read_table(c, path), c, false) : read_idx_images(path, "");
}

Dataset load_test_data(const Config& c, Standardization* standardization) {
  if (!test_has_own_file(c) || c.get_bool("data.standardize") || multimodal(c)) {  // needs the training data
    Splits splits = load_data(c);
    if (standardization) *standardization = splits.standardization;
    return splits.test;
  }
  if (fasta(c)) {
    const std::string path = resolve(c, "data.test");
    Dataset test = head(fasta_windows(c, read_fasta(path), path, false), c.get_int("data.max_test"));
    return drop_empty_rows(hide_entries(std::move(test), MissingOptions::from_config(c), kTestSplit));
  }
  Dataset test = head(read_split(c, "data.test", "data.test_labels"), c.get_int("data.max_test"));
  test = drop_empty_rows(hide_entries(std::move(test), MissingOptions::from_config(c), kTestSplit));
  if (parse_binarization(c.get_string("data.binarize")) != Binarization::none)
    test = binarize_static(test, mix_seed(0, RngStream::data, kTestBinarizeSeed));
  return c.get_string("model.type") == "m2" ? hide_labels(std::move(test)) : test;
}

}  // namespace elbo::data
