#include "elbo/data/dataset.h"

#include "elbo/core/check.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

namespace elbo::data {
namespace {

torch::Tensor checked_index(const Dataset& data, const torch::Tensor& index, const char* fn) {
  ELBO_CHECK(data.x.defined(), "elbo::data::Dataset::", fn, ": the data set '", data.name, "' is empty");
  ELBO_CHECK(index.defined() && index.dim() == 1, "elbo::data::Dataset::", fn,
             ": index must be a 1-D tensor (got ", index.defined() ? index.dim() : 0, " dimensions)");
  ELBO_CHECK(!index.is_floating_point() && !index.is_complex() && index.scalar_type() != torch::kBool,
             "elbo::data::Dataset::", fn, ": index must hold integers (got ", index.scalar_type(), ")");
  auto idx = index.to(data.x.device(), torch::kInt64);
  if (idx.numel() > 0) {
    const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    ELBO_CHECK(lo >= 0 && hi < data.size(), "elbo::data::Dataset::", fn, ": index out of range [0, ",
               data.size(), ") (got ", lo < 0 ? lo : hi, ")");
  }
  return idx;
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

Batch Dataset::batch(const torch::Tensor& index) const {
  const auto idx = checked_index(*this, index, "batch");
  Batch b;
  b.x = x.index_select(0, idx);
  if (dynamic_binarize) b.x = torch::bernoulli(b.x);
  if (mask.defined()) b.mask = mask.index_select(0, idx);
  if (y.defined()) b.y = y.index_select(0, idx);
  return b;
}

Batch Dataset::slice(int64_t begin, int64_t end) const {
  ELBO_CHECK(0 <= begin && begin <= end && end <= size(), "elbo::data::Dataset::slice: range [",
             begin, ", ", end, ") is not within [0, ", size(), ")");
  Batch b;
  if (!x.defined()) return b;
  b.x = x.slice(0, begin, end);
  if (mask.defined()) b.mask = mask.slice(0, begin, end);
  if (y.defined()) b.y = y.slice(0, begin, end);
  return b;
}

Dataset Dataset::subset(const torch::Tensor& index) const {
  const auto idx = checked_index(*this, index, "subset");
  Dataset out = *this;
  out.x = x.index_select(0, idx);
  if (mask.defined()) out.mask = mask.index_select(0, idx);
  if (y.defined()) out.y = y.index_select(0, idx);
  if (factors.defined()) out.factors = factors.index_select(0, idx.to(factors.device()));
  return out;
}

torch::Tensor scale_pixels(const torch::Tensor& raw) {
  ELBO_CHECK(raw.defined() && raw.scalar_type() == torch::kUInt8,
             "elbo::data::scale_pixels: expected uint8 intensities (got ",
             raw.defined() ? c10::toString(raw.scalar_type()) : "an undefined tensor", ")");
  return raw.to(torch::kFloat32).div_(255.0);
}

Dataset binarize_static(const Dataset& data, uint64_t seed) {
  ELBO_CHECK(data.x.defined(), "elbo::data::binarize_static: the data set '", data.name, "' is empty");
  if (data.x.numel() > 0) {
    const double lo = data.x.min().item<double>(), hi = data.x.max().item<double>();
    ELBO_CHECK(lo >= 0 && hi <= 1, "elbo::data::binarize_static: '", data.name,
               "' must hold intensities in [0, 1] (got values in [", lo, ", ", hi, "])");
  }
  Dataset out = data;
  out.x = torch::bernoulli(data.x.cpu(), seeded(seed)).to(data.x.device());
  out.dynamic_binarize = false;
  return out;
}

Standardization standardize(Dataset& data) {
  ELBO_CHECK(data.x.defined() && data.size() > 0, "elbo::data::standardize: the data set '",
             data.name, "' is empty");
  const auto x = data.x.to(torch::kFloat64);
  const auto m = data.mask.defined() ? data.mask.to(torch::kFloat64) : torch::ones_like(x);
  const auto observed = m > 0;
  const auto count = m.sum(0);
  const auto mean = (x * m).sum(0) / count.clamp_min(1);
  auto std = (((x - mean) * m).square().sum(0) / count.clamp_min(1)).sqrt();
  const double inf = std::numeric_limits<double>::infinity();
  const auto hi = torch::where(observed, x, torch::full_like(x, -inf)).amax(0);
  const auto lo = torch::where(observed, x, torch::full_like(x, inf)).amin(0);
  std = torch::where((count > 0) & (hi > lo), std, torch::ones_like(std));
  Standardization s{mean.to(data.x.scalar_type()), std.to(data.x.scalar_type())};
  apply_standardization(data, s);
  return s;
}

void apply_standardization(Dataset& data, const Standardization& s) {
  ELBO_CHECK(s.mean.defined() && s.std.defined() && s.mean.numel() == data.features() &&
                 s.std.numel() == data.features(),
             "elbo::data::apply_standardization: the standardization has ",
             s.mean.defined() ? s.mean.numel() : 0, " columns, the data set '", data.name, "' has ",
             data.features());
  data.x = (data.x - s.mean.to(data.x.options()).view({1, -1})) / s.std.to(data.x.options()).view({1, -1});
  if (data.mask.defined()) data.x.mul_(data.mask.to(data.x.scalar_type()));
}

TrainValidation split_validation(const Dataset& data, int64_t validation, uint64_t seed) {
  const int64_t n = data.size();
  ELBO_CHECK(validation >= 0 && validation < n, "elbo::data::split_validation: validation size must be in [0, ",
             n, ") for '", data.name, "' with ", n, " examples (got ", validation, ")");
  auto gen = seeded(seed);
  const auto perm = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));
  return {data.subset(perm.slice(0, 0, n - validation)), data.subset(perm.slice(0, n - validation, n))};
}

}  // namespace elbo::data
