#include "elbo/data/missing.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/csv.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <sstream>

namespace elbo::data {
namespace {

const ImageShape& image_of(const Dataset& data, const std::string& pattern) {
  ELBO_CHECK(data.image.is_image(), "data.missing = \"", pattern, "\" needs image data; '", data.name,
             "' is a table (use \"mcar\" or \"columns\")");
  return data.image;
}

/// [N, D] float32: 1 where the pattern hides the entry.
torch::Tensor hide_pattern(const Dataset& data, const MissingOptions& o, at::Generator& gen) {
  const int64_t n = data.size(), d = data.features();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  if (o.pattern == "mcar") return (torch::rand({n, d}, gen, f32) < o.rate).to(torch::kFloat32);
  if (o.pattern == "columns") {
    torch::Tensor hide = torch::zeros({n, d}, f32);
    const std::vector<int64_t> columns = column_indices(data, o.columns, "data.missing_columns");
    ELBO_CHECK(!columns.empty(), "data.missing = \"columns\" needs data.missing_columns (names or 1-based indices)");
    for (int64_t c : columns) hide.select(1, c).fill_(1);
    return hide;
  }
  const ImageShape& im = image_of(data, o.pattern);
  torch::Tensor hide = torch::zeros({n, im.channels, im.height, im.width}, f32);
  if (o.pattern == "bottom_half") {
    hide.narrow(2, im.height / 2, im.height - im.height / 2).fill_(1);
  } else {
    ELBO_CHECK(o.pattern == "block", "data.missing: unknown pattern '", o.pattern,
               "' (valid: none, mcar, block, bottom_half, columns)");
    const int64_t s = o.block;
    ELBO_CHECK(s >= 1 && s <= std::min(im.height, im.width), "data.missing_block = ", s, " must be in 1..",
               std::min(im.height, im.width), " for ", im.str(), " images");
    const torch::Tensor top = torch::randint(im.height - s + 1, {n}, gen, torch::kLong);
    const torch::Tensor left = torch::randint(im.width - s + 1, {n}, gen, torch::kLong);
    for (int64_t i = 0; i < n; ++i)
      hide[i].narrow(1, top[i].item<int64_t>(), s).narrow(2, left[i].item<int64_t>(), s).fill_(1);
  }
  return hide.view({n, d});
}

}  // namespace

MissingOptions MissingOptions::from_config(const Config& c) {
  MissingOptions o;
  o.pattern = c.get_string("data.missing");
  o.rate = c.get_double("data.missing_rate");
  o.block = c.get_int("data.missing_block");
  o.columns = c.get_string("data.missing_columns");
  o.rows = c.get_double("data.missing_rows");
  o.seed = static_cast<uint64_t>(c.get_int("data.missing_seed"));
  return o;
}

Dataset hide_entries(Dataset data, const MissingOptions& o, uint64_t split) {
  if (o.pattern == "none" || data.size() == 0) return data;
  ELBO_CHECK(o.rate >= 0 && o.rate < 1, "data.missing_rate = ", o.rate, " must be in [0, 1)");
  ELBO_CHECK(o.rows > 0 && o.rows <= 1, "data.missing_rows = ", o.rows, " must be in (0, 1]");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(mix_seed(o.seed, RngStream::data, 100 + split));
  const torch::Tensor observed = data.mask.defined() ? data.mask.to(torch::kCPU, torch::kFloat32)
                                                     : torch::ones({data.size(), data.features()});
  // Only entries that were observed can be hidden (the others have no true value).
  torch::Tensor hide = hide_pattern(data, o, gen) * observed;
  if (o.rows < 1) hide *= (torch::rand({data.size(), 1}, gen) < o.rows).to(torch::kFloat32);
  ELBO_CHECK(o.pattern != "columns" || (observed - hide).sum().item<double>() > 0, "data.missing_columns = \"",
             o.columns, "\" hides every observed entry of '", data.name, "'");
  const torch::Tensor hidden = data.hidden.defined() ? (data.hidden.cpu() + hide).clamp_max(1) : hide;
  data.mask = (observed - hide).to(data.x.device());
  data.hidden = hidden.to(data.x.device());
  return data;
}

Dataset drop_empty_rows(Dataset data) {
  if (!data.mask.defined() || data.size() == 0) return data;
  const torch::Tensor keep = (data.mask.sum(1) > 0).nonzero().view(-1);
  const int64_t dropped = data.size() - keep.size(0);
  if (dropped == 0) return data;
  ELBO_CHECK(keep.size(0) > 0, "'", data.name, "': every entry of every row is missing");
  Dataset out = data.subset(keep);
  out.rows_dropped = data.rows_dropped + dropped;
  return out;
}

}  // namespace elbo::data
