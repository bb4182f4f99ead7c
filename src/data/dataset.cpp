#include "elbo/data/dataset.h"

#include "elbo/core/check.h"
#include "elbo/core/fast_math.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace elbo::data {
namespace {

torch::Tensor checked_index(const Dataset& data, const torch::Tensor& index, const char* fn) {
  ELBO_CHECK(data.x.defined(), "elbo::data::Dataset::", fn, ": the data set '", data.name, "' is empty");
  ELBO_CHECK(index.defined() && index.dim() == 1, "elbo::data::Dataset::", fn,
             ": index must be a 1-D tensor (got ", index.defined() ? index.dim() : 0, " dimensions)");
  ELBO_CHECK(!index.is_floating_point() && !index.is_complex() && index.scalar_type() != torch::kBool,
             "elbo::data::Dataset::", fn, ": index must hold integers (got ", index.scalar_type(), ")");
  auto idx = index.to(data.x.device(), torch::kInt64).contiguous();
  if (idx.numel() > 0) {
    int64_t lo = 0, hi = 0;
    if (idx.is_cpu()) {  // no reduction kernels per batch
      const int64_t* p = idx.data_ptr<int64_t>();
      const auto [min, max] = std::minmax_element(p, p + idx.numel());
      lo = *min, hi = *max;
    } else {
      lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    }
    ELBO_CHECK(lo >= 0 && hi < data.size(), "elbo::data::Dataset::", fn, ": index out of range [0, ",
               data.size(), ") (got ", lo < 0 ? lo : hi, ")");
  }
  return idx;
}

/// out[j] = in[j] / 255 in float32: the same correctly rounded quotient as scale_pixels.
ELBO_VECTOR_CLONES void scale_row(const uint8_t* in, float* out, int64_t d) {
  for (int64_t j = 0; j < d; ++j) out[j] = static_cast<float>(in[j]) / 255.0f;
}

/// Asks for the cache lines of bytes [p, p + n).
void prefetch_bytes(const uint8_t* p, int64_t n) {
  constexpr int64_t kLine = 64;
  for (int64_t b = 0; b < n; b += kLine) __builtin_prefetch(p + b);
  __builtin_prefetch(p + n - 1);
}

/// Whether `x` is the 8-bit CPU table that gather_pixels() reads rows of directly.
bool byte_rows(const torch::Tensor& x) {
  return x.defined() && x.scalar_type() == torch::kUInt8 && x.is_cpu() && x.is_contiguous();
}

/// Rows `idx` (CPU int64, in range) of contiguous uint8 intensities as float32 k / 255, in
/// one pass, split across `threads` when given.
torch::Tensor gather_pixels(const torch::Tensor& x, const torch::Tensor& idx, WorkerThreads* threads) {
  const int64_t rows = idx.size(0), d = x.size(1);
  torch::Tensor out = torch::empty({rows, d}, torch::kFloat32);
  const uint8_t* src = x.data_ptr<uint8_t>();
  const int64_t* row = idx.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  // The rows lie at random in a large table, so each row's cache lines are requested a few
  // rows ahead: the hardware prefetcher stops at page boundaries and cannot guess the next row.
  constexpr int64_t kAhead = 4;
  auto prefetch_row = [&](int64_t i) { prefetch_bytes(src + row[i] * d, d); };
  auto gather = [&](int part) {
    const auto [begin, end] = part_range(rows, part, threads ? threads->size() : 1);
    for (int64_t i = begin; i < std::min(end, begin + kAhead); ++i) prefetch_row(i);
    for (int64_t i = begin; i < end; ++i) {
      if (i + kAhead < end) prefetch_row(i + kAhead);
      scale_row(src + row[i] * d, dst + i * d, d);
    }
  };
  if (threads) threads->run(gather);
  else gather(0);
  return out;
}

/// Whether `t` is the only holder of its memory (so it may be rearranged in place).
bool sole_owner(const torch::Tensor& t) { return t.use_count() == 1 && t.storage().use_count() == 1; }

/// Reorders the rows of `t` so that row i becomes old row perm[i]: in place by following
/// the permutation's cycles (one row of scratch; fixed points stay put) when `t` is a
/// contiguous CPU tensor nothing else shares, else as a gathered copy.
void permute_rows(torch::Tensor& t, const torch::Tensor& perm) {
  if (!t.defined()) return;
  if (!(t.is_cpu() && t.is_contiguous() && sole_owner(t))) {
    t = t.index_select(0, perm.to(t.device()));
    return;
  }
  const int64_t n = t.size(0), row = n > 0 ? t.numel() / n * static_cast<int64_t>(t.element_size()) : 0;
  auto* base = static_cast<char*>(t.data_ptr());
  const int64_t* p = perm.data_ptr<int64_t>();
  std::vector<char> held(static_cast<size_t>(row));
  std::vector<bool> placed(static_cast<size_t>(n), false);
  for (int64_t start = 0; start < n; ++start) {
    if (placed[start] || p[start] == start) continue;
    std::memcpy(held.data(), base + start * row, row);
    int64_t i = start;
    for (int64_t from = p[i]; from != start; i = from, from = p[i]) {
      std::memcpy(base + i * row, base + from * row, row);
      placed[i] = true;
    }
    std::memcpy(base + i * row, held.data(), row);
    placed[i] = true;
  }
}

/// Examples [begin, end) as views.
Dataset rows(const Dataset& d, int64_t begin, int64_t end) {
  Dataset out = d;
  for (torch::Tensor* t : {&out.x, &out.mask, &out.y, &out.y_mask, &out.target, &out.hidden, &out.factors})
    if (t->defined()) *t = t->slice(0, begin, end);
  return out;
}

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

}  // namespace

Binarization parse_binarization(const std::string& name) {
  if (name == "none") return Binarization::none;
  if (name == "static") return Binarization::fixed;
  if (name == "dynamic") return Binarization::dynamic;
  throw std::invalid_argument(detail::concat("elbo::data::parse_binarization: unknown binarization '",
                                             name, "' (valid: none, static, dynamic)"));
}

Batch Dataset::batch(const torch::Tensor& index, WorkerThreads* threads) const {
  const auto idx = checked_index(*this, index, "batch");
  Batch b;
  b.x = byte_rows(x) ? gather_pixels(x, idx, threads) : float_features(x.index_select(0, idx));
  if (dynamic_binarize) b.x = torch::bernoulli(b.x);
  if (hidden.defined()) b.x.masked_fill_(hidden.index_select(0, idx) > 0, 0);
  if (mask.defined()) b.mask = mask.index_select(0, idx);
  if (y.defined()) b.y = y.index_select(0, idx);
  if (y_mask.defined()) b.y_mask = y_mask.index_select(0, idx);
  if (target.defined()) b.target = target.index_select(0, idx);
  return b;
}

void Dataset::prefetch(const torch::Tensor& order, int64_t begin, int64_t end) const {
  if (!byte_rows(x) || !order.is_cpu() || order.scalar_type() != torch::kLong || order.dim() != 1 ||
      !order.is_contiguous())
    return;
  const int64_t d = x.size(1), n = size();
  const uint8_t* src = x.data_ptr<uint8_t>();
  const int64_t* row = order.data_ptr<int64_t>();
  for (int64_t i = std::max<int64_t>(begin, 0); i < std::min(end, order.size(0)); ++i)
    if (row[i] >= 0 && row[i] < n) prefetch_bytes(src + row[i] * d, d);
}

Batch Dataset::slice(int64_t begin, int64_t end) const {
  ELBO_CHECK(0 <= begin && begin <= end && end <= size(), "elbo::data::Dataset::slice: range [",
             begin, ", ", end, ") is not within [0, ", size(), ")");
  Batch b;
  if (!x.defined()) return b;
  b.x = float_features(x.slice(0, begin, end));
  if (hidden.defined()) b.x = b.x.masked_fill(hidden.slice(0, begin, end) > 0, 0);
  if (mask.defined()) b.mask = mask.slice(0, begin, end);
  if (y.defined()) b.y = y.slice(0, begin, end);
  if (y_mask.defined()) b.y_mask = y_mask.slice(0, begin, end);
  if (target.defined()) b.target = target.slice(0, begin, end);
  return b;
}

Dataset Dataset::subset(const torch::Tensor& index) const {
  const auto idx = checked_index(*this, index, "subset");
  Dataset out = *this;
  out.x = x.index_select(0, idx);
  if (mask.defined()) out.mask = mask.index_select(0, idx);
  if (y.defined()) out.y = y.index_select(0, idx);
  if (y_mask.defined()) out.y_mask = y_mask.index_select(0, idx);
  if (target.defined()) out.target = target.index_select(0, idx);
  if (hidden.defined()) out.hidden = hidden.index_select(0, idx);
  if (factors.defined()) out.factors = factors.index_select(0, idx.to(factors.device()));
  return out;
}

torch::Tensor scale_pixels(const torch::Tensor& raw) {
  ELBO_CHECK(raw.defined() && raw.scalar_type() == torch::kUInt8,
             "elbo::data::scale_pixels: expected uint8 intensities (got ",
             raw.defined() ? c10::toString(raw.scalar_type()) : "an undefined tensor", ")");
  return raw.to(torch::kFloat32).div_(255.0);
}

torch::Tensor float_features(const torch::Tensor& x) {
  return x.scalar_type() == torch::kUInt8 ? scale_pixels(x) : x;
}

Dataset binarize_static(const Dataset& data, uint64_t seed) {
  ELBO_CHECK(data.x.defined(), "elbo::data::binarize_static: the data set '", data.name, "' is empty");
  const torch::Tensor p = float_features(data.x);
  if (p.numel() > 0) {
    const double lo = p.min().item<double>(), hi = p.max().item<double>();
    ELBO_CHECK(lo >= 0 && hi <= 1, "elbo::data::binarize_static: '", data.name,
               "' must hold intensities in [0, 1] (got values in [", lo, ", ", hi, "])");
  }
  Dataset out = data;
  out.x = torch::bernoulli(p.cpu(), seeded(seed)).to(data.x.device());
  if (data.x.scalar_type() == torch::kUInt8) out.x = out.x.mul_(255).to(torch::kUInt8);
  out.dynamic_binarize = false;
  return out;
}

Standardization standardize(Dataset& data) {
  ELBO_CHECK(data.x.defined() && data.size() > 0, "elbo::data::standardize: the data set '",
             data.name, "' is empty");
  const auto features = float_features(data.x);
  const auto x = features.to(torch::kFloat64);
  const auto m = data.mask.defined() ? data.mask.to(torch::kFloat64) : torch::ones_like(x);
  const auto observed = m > 0;
  const auto count = m.sum(0);
  const auto mean = (x * m).sum(0) / count.clamp_min(1);
  auto std = (((x - mean) * m).square().sum(0) / count.clamp_min(1)).sqrt();
  const double inf = std::numeric_limits<double>::infinity();
  const auto hi = torch::where(observed, x, torch::full_like(x, -inf)).amax(0);
  const auto lo = torch::where(observed, x, torch::full_like(x, inf)).amin(0);
  std = torch::where((count > 0) & (hi > lo), std, torch::ones_like(std));
  Standardization s{mean.to(features.scalar_type()), std.to(features.scalar_type())};
  apply_standardization(data, s);
  return s;
}

void apply_standardization(Dataset& data, const Standardization& s) {
  ELBO_CHECK(s.mean.defined() && s.std.defined() && s.mean.numel() == data.features() &&
                 s.std.numel() == data.features(),
             "elbo::data::apply_standardization: the standardization has ",
             s.mean.defined() ? s.mean.numel() : 0, " columns, the data set '", data.name, "' has ",
             data.features());
  const torch::Tensor x = float_features(data.x);
  data.x = (x - s.mean.to(x.options()).view({1, -1})) / s.std.to(x.options()).view({1, -1});
  // Missing entries become 0; hidden ones (data.missing) keep their standardized true value.
  if (data.mask.defined())
    data.x.mul_(data.hidden.defined() ? (data.mask + data.hidden).clamp_max(1).to(data.x.scalar_type())
                                      : data.mask.to(data.x.scalar_type()));
}

TrainValidation split_validation(Dataset data, int64_t validation, uint64_t seed) {
  const int64_t n = data.size();
  ELBO_CHECK(validation >= 0 && validation < n, "elbo::data::split_validation: validation size must be in [0, ",
             n, ") for '", data.name, "' with ", n, " examples (got ", validation, ")");
  // The last `validation` steps of a Fisher-Yates shuffle: the tail is a uniformly drawn
  // ordered subset, and only ~2 * validation rows move (the epochs shuffle the rest anyway).
  auto gen = seeded(seed);
  const torch::Tensor u = torch::rand({validation}, gen, torch::kFloat64);
  const auto* draw = u.data_ptr<double>();
  torch::Tensor perm = torch::arange(n, torch::kInt64);
  auto* p = perm.data_ptr<int64_t>();
  for (int64_t k = 0; k < validation; ++k) {
    const int64_t i = n - 1 - k, j = std::min(i, static_cast<int64_t>(draw[k] * static_cast<double>(i + 1)));
    std::swap(p[i], p[j]);
  }
  for (torch::Tensor* t : {&data.x, &data.mask, &data.y, &data.y_mask, &data.target, &data.hidden, &data.factors})
    permute_rows(*t, perm);
  return {rows(data, 0, n - validation), rows(data, n - validation, n)};
}

}  // namespace elbo::data
