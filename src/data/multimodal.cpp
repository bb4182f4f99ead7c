#include "elbo/data/multimodal.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/csv.h"
#include "elbo/data/idx.h"
#include "elbo/data/load.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace elbo::data {
namespace {

std::string key(size_t i, const char* name) { return "data.modalities[" + std::to_string(i) + "]." + name; }

bool is_table(const std::string& path) {
  for (const char* suffix : {".csv", ".tsv", ".txt"})
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, suffix) == 0) return true;
  return false;
}

/// A modality's columns of a CSV table: `columns` selected, the presence column (1 = measured,
/// 0 = not; removed) applied to the mask.
Dataset read_table_modality(const Config& c, size_t i, const std::string& path) {
  Dataset d = read_table(c, path, /*labels=*/false);
  const int64_t n = d.size();
  if (!d.mask.defined()) d.mask = torch::ones_like(d.x);
  torch::Tensor measured = torch::ones({n}, torch::kFloat32);
  std::vector<int64_t> keep;
  if (const std::string& spec = c.get_string(key(i, "presence_column")); !spec.empty()) {
    const std::vector<int64_t> column = column_indices(d, spec, key(i, "presence_column"));
    ELBO_CHECK(column.size() == 1, key(i, "presence_column"), ": name one column (got \"", spec, "\")");
    const torch::Tensor p = d.x.select(1, column[0]), known = d.mask.select(1, column[0]) > 0;
    const torch::Tensor bad = (~known | ((p != 0) & (p != 1))).nonzero();
    if (bad.size(0) > 0) {
      const int64_t row = bad[0][0].item<int64_t>();
      ELBO_CHECK(false, path, ": row ", row + 1, " of the data: the presence column '", spec, "' must be 0 or 1 (got ",
                 known[row].item<bool>() ? std::to_string(p[row].item<double>()) : std::string("an empty cell"), ")");
    }
    measured = p;
    for (int64_t j = 0; j < d.features(); ++j)
      if (j != column[0]) keep.push_back(j);
  }
  if (const std::string& spec = c.get_string(key(i, "columns")); !spec.empty()) {
    std::vector<int64_t> chosen = column_indices(d, spec, key(i, "columns"));
    ELBO_CHECK(!chosen.empty(), key(i, "columns"), ": \"", spec, "\" names no column");
    if (!keep.empty()) {
      for (int64_t j : chosen)
        ELBO_CHECK(std::find(keep.begin(), keep.end(), j) != keep.end(), key(i, "columns"),
                   ": takes the presence column");
    }
    keep = chosen;
  }
  if (!keep.empty()) {
    const torch::Tensor index = torch::tensor(keep, torch::kLong);
    d.x = d.x.index_select(1, index);
    d.mask = d.mask.index_select(1, index);
    if (!d.feature_names.empty()) {
      std::vector<std::string> names;
      for (int64_t j : keep) names.push_back(d.feature_names[j]);
      d.feature_names = names;
    }
  }
  d.mask = d.mask * measured.view({-1, 1});
  d.x = d.x * d.mask;
  return d;
}

/// A modality stored as IDX: labels [N] (one column), a table [N, F], or images [N, H, W(, C)]
/// of which image_columns keeps the pixel columns [first, end).
Dataset read_idx_modality(const Config& c, size_t i, const std::string& path) {
  torch::Tensor raw = read_idx(path);
  const auto& crop = c.get_ints(key(i, "image_columns"));
  ELBO_CHECK(raw.dim() >= 1 && raw.dim() <= 4, path, ": expected labels [N], a table [N, F] or images [N, H, W(, C)], "
             "got ", raw.sizes());
  ELBO_CHECK(crop.empty() || raw.dim() >= 3, key(i, "image_columns"), " needs images; '", path, "' holds shape ",
             raw.sizes());
  Dataset d;
  d.name = path;
  const bool pixels = raw.scalar_type() == torch::kUInt8 && raw.dim() >= 3;
  if (raw.dim() == 4) raw = raw.permute({0, 3, 1, 2});  // channels first
  if (raw.dim() == 3) raw = raw.unsqueeze(1);
  if (raw.dim() == 4) {
    int64_t first = 0, end = raw.size(3);
    if (!crop.empty()) {
      ELBO_CHECK(crop.size() == 2 && crop[0] < crop[1] && crop[1] <= raw.size(3), key(i, "image_columns"),
                 " must be [first, end) with 0 <= first < end <= ", raw.size(3), " (the image width of '", path, "')");
      first = crop[0], end = crop[1];
    }
    raw = raw.narrow(3, first, end - first);
    d.image = ImageShape{raw.size(1), raw.size(2), raw.size(3)};
  }
  d.x = raw.reshape({raw.size(0), -1}).to(torch::kFloat32);
  if (pixels) d.x.div_(255.0);
  d.mask = torch::isfinite(d.x).to(torch::kFloat32);
  d.x = torch::where(d.mask > 0, d.x, torch::zeros_like(d.x));
  return d;
}

/// Refuses observed values the modality's likelihood cannot score, naming the first one.
void check_values(const Dataset& d, const Modality& m, const std::string& path) {
  const torch::Tensor observed = d.mask > 0, x = d.x;
  torch::Tensor bad;
  std::string expected;
  if (m.likelihood == "poisson" || m.likelihood == "negative_binomial" || m.likelihood == "categorical") {
    bad = observed & ((x < 0) | (x != x.round()));
    expected = m.likelihood == "categorical" ? "class indices 0, 1, ..." : "counts (non-negative integers)";
    if (m.likelihood == "categorical" && m.categories > 0) {
      bad = bad | (observed & (x >= m.categories));
      expected = "class indices 0.." + std::to_string(m.categories - 1);
    }
  } else if (m.likelihood == "bernoulli" || m.likelihood == "continuous_bernoulli") {
    bad = observed & ((x < 0) | (x > 1));
    expected = "values in [0, 1]";
  } else {
    return;
  }
  const torch::Tensor at = bad.nonzero();
  if (at.size(0) == 0) return;
  const int64_t row = at[0][0].item<int64_t>(), col = at[0][1].item<int64_t>();
  const std::string column =
      col < static_cast<int64_t>(m.feature_names.size()) ? "'" + m.feature_names[col] + "'" : std::to_string(col + 1);
  ELBO_CHECK(false, "modality '", m.name, "' ('", path, "'): the ", m.likelihood, " likelihood needs ", expected,
             "; row ", row + 1, ", column ", column, " holds ", x[row][col].item<double>());
}

}  // namespace

std::vector<Modality> modalities_of(const Config& c) {
  std::vector<Modality> out;
  int64_t begin = 0;
  for (size_t i = 0; i < static_cast<size_t>(c.count("data.modalities")); ++i) {
    Modality m;
    m.name = c.get_string(key(i, "name"));
    ELBO_CHECK(!m.name.empty(), key(i, "name"), " is empty: every modality needs a name");
    ELBO_CHECK(m.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                   std::string::npos,
               key(i, "name"), " = \"", m.name, "\": a modality name holds letters, digits, '_', '-' and '.' only");
    for (const auto& other : out)
      ELBO_CHECK(other.name != m.name, key(i, "name"), ": the modality name '", m.name, "' is used twice");
    m.likelihood = c.get_string(key(i, "likelihood"));
    m.categories = c.get_int(key(i, "categories"));
    m.standardize = c.get_bool(key(i, "standardize"));
    m.binarize = c.get_bool(key(i, "binarize"));
    m.hidden = c.get_ints(key(i, "hidden"));
    m.width = c.get_int(key(i, "width"));
    const auto& image = c.get_ints(key(i, "image"));
    if (image.size() == 3) m.image = ImageShape{image[0], image[1], image[2]};
    ELBO_CHECK(!m.standardize || m.likelihood == "gaussian" || m.likelihood == "laplace", key(i, "standardize"),
               " = true fits a gaussian or laplace likelihood, not ", m.likelihood);
    ELBO_CHECK(!m.binarize || m.likelihood == "bernoulli", key(i, "binarize"), " = true needs likelihood = \"bernoulli\"");
    m.begin = begin;
    begin += m.width;
    out.push_back(m);
  }
  return out;
}

void record_modalities(Config& c, const std::vector<Modality>& modalities) {
  for (size_t i = 0; i < modalities.size(); ++i) {
    const Modality& m = modalities[i];
    c.set(key(i, "width"), m.width);
    c.set(key(i, "categories"), m.categories);
    if (m.image.is_image()) c.set(key(i, "image"), std::vector<int64_t>{m.image.channels, m.image.height, m.image.width});
  }
}

Dataset read_modalities(const Config& c, bool test) {
  std::vector<Modality> layout = modalities_of(c);
  ELBO_CHECK(!layout.empty(), "model.type = \"multimodal\" needs [[data.modalities]] tables (one per kind of measurement)");
  std::vector<torch::Tensor> xs, masks;
  std::vector<std::string> names;
  Dataset first;
  int64_t begin = 0;
  for (size_t i = 0; i < layout.size(); ++i) {
    Modality& m = layout[i];
    const std::string& file = c.get_string(key(i, test ? "test" : "file"));
    ELBO_CHECK(!file.empty(), key(i, test ? "test" : "file"), " is empty: modality '", m.name, "' needs its ",
               test ? "test rows (or every modality's test = \"\" with data.test_fraction)" : "file");
    const std::string path = data_path(c, file);
    Dataset d = is_table(path) ? read_table_modality(c, i, path) : read_idx_modality(c, i, path);
    if (i == 0) first = d;
    ELBO_CHECK(d.size() == first.size(), "modality '", m.name, "' ('", path, "') has ", d.size(), " rows, modality '",
               layout[0].name, "' ('", first.name, "') has ", first.size(),
               ": the modalities' files must be aligned row by row (an empty row where a modality is absent)");
    m.feature_names = d.feature_names;
    if (m.likelihood == "categorical") {
      ELBO_CHECK(d.features() == 1 || m.categories > 0, "modality '", m.name, "' ('", path,
                 "'): a categorical modality of several columns needs ", key(i, "categories"));
      if (m.categories == 0) {
        const torch::Tensor seen = d.x.masked_select(d.mask > 0);
        m.categories = seen.numel() > 0 ? static_cast<int64_t>(seen.max().item<double>()) + 1 : 0;
        ELBO_CHECK(m.categories >= 2, "modality '", m.name, "' ('", path, "'): a categorical modality needs at least 2 "
                   "classes (the largest value seen is ", m.categories - 1, ")");
      }
    }
    check_values(d, m, path);
    ELBO_CHECK(m.width == 0 || m.width == d.features(), "modality '", m.name, "' ('", path, "') has ", d.features(),
               " columns; the run was trained with ", m.width);
    ELBO_CHECK(!m.image.is_image() || !d.image.is_image() || m.image.features() == d.image.features(), "modality '",
               m.name, "' ('", path, "') holds images ", d.image.str(), "; the run was trained on ", m.image.str());
    m.width = d.features();
    if (d.image.is_image()) m.image = d.image;
    m.begin = begin;
    begin += m.width;
    for (int64_t j = 0; j < m.width; ++j)
      names.push_back(m.name + ":" + (j < static_cast<int64_t>(d.feature_names.size()) ? d.feature_names[j] : std::to_string(j + 1)));
    xs.push_back(d.x);
    masks.push_back(d.mask);
  }
  Dataset out;
  out.x = torch::cat(xs, 1);
  out.mask = torch::cat(masks, 1);
  out.modalities = layout;
  out.feature_names = names;
  out.name = first.name;
  for (size_t i = 1; i < layout.size(); ++i) out.name += " + " + c.get_string(key(i, test ? "test" : "file"));
  torch::Tensor any = torch::zeros({out.size()}, torch::kBool);
  for (const auto& m : layout) any = any | present(out.mask, m, out.size());
  const torch::Tensor empty = (~any).nonzero().view(-1);
  if (empty.numel() > 0) {
    std::string rows;
    for (int64_t k = 0; k < std::min<int64_t>(empty.numel(), 10); ++k)
      rows += (k ? ", " : "") + std::to_string(empty[k].item<int64_t>() + 1);
    ELBO_CHECK(false, empty.numel(), " row", empty.numel() == 1 ? "" : "s", " of the ", test ? "test" : "training",
               " files ", empty.numel() == 1 ? "has" : "have", " no modality (every modality absent): row",
               empty.numel() == 1 ? " " : "s ", rows, empty.numel() > 10 ? ", ..." : "", "; remove ",
               empty.numel() == 1 ? "it" : "them");
  }
  return out;
}

Standardization standardize_modalities(Dataset& train) {
  const int64_t d = train.features();
  Standardization s{torch::zeros({d}), torch::ones({d})};
  for (const auto& m : train.modalities) {
    if (!m.standardize) continue;
    Dataset part;
    part.x = train.x.narrow(1, m.begin, m.width);
    part.mask = train.mask.narrow(1, m.begin, m.width);
    if (train.hidden.defined()) part.hidden = train.hidden.narrow(1, m.begin, m.width);
    part.name = train.name;
    const Standardization own = standardize(part);
    s.mean.narrow(0, m.begin, m.width).copy_(own.mean);
    s.std.narrow(0, m.begin, m.width).copy_(own.std);
  }
  apply_standardization(train, s);
  return s;
}

Dataset select_modalities(const Dataset& data, const std::vector<size_t>& observed, const std::vector<size_t>& hidden) {
  const torch::Tensor mask = data.mask.defined() ? data.mask : torch::ones_like(data.x, torch::kFloat32);
  Dataset out = data;
  out.mask = torch::zeros_like(mask);
  out.hidden = torch::zeros_like(mask);
  for (size_t i : observed) {
    const Modality& m = data.modalities.at(i);
    out.mask.narrow(1, m.begin, m.width).copy_(mask.narrow(1, m.begin, m.width));
  }
  for (size_t i : hidden) {
    const Modality& m = data.modalities.at(i);
    out.hidden.narrow(1, m.begin, m.width).copy_(mask.narrow(1, m.begin, m.width));
  }
  return out;
}

void binarize_modalities(Dataset& data, uint64_t seed) {
  data.x = data.x.clone();  // the splits may share storage
  for (const auto& m : data.modalities) {
    if (!m.binarize) continue;
    torch::Tensor columns = data.x.narrow(1, m.begin, m.width);
    columns.copy_(torch::bernoulli(columns, at::make_generator<at::CPUGeneratorImpl>(mix_seed(seed, RngStream::data, static_cast<uint64_t>(m.begin)))));
  }
}

}  // namespace elbo::data
