#include "elbo/report/heat_map.h"

#include "elbo/core/check.h"

#include <torch/types.h>

namespace elbo::report {

torch::Tensor diverging_heat_map(const torch::Tensor& values, double limit, int64_t cell) {
  ELBO_CHECK(values.dim() == 2 && cell >= 1, "elbo::report::diverging_heat_map: expected values [R, C] and a cell of "
             ">= 1 pixel, got ", values.sizes(), " and ", cell);
  const torch::Tensor v = values.to(torch::kDouble);
  if (limit <= 0) limit = v.numel() > 0 ? v.nan_to_num(0).abs().max().item<double>() : 1.0;
  if (limit <= 0) limit = 1.0;
  const torch::Tensor t = (v / limit).clamp(-1, 1);
  // Red channel falls with negative values, blue with positive ones, green with both.
  const torch::Tensor rgb = torch::stack({1 - t.clamp_max(0).neg(), 1 - t.abs(), 1 - t.clamp_min(0)});
  const torch::Tensor shown = torch::where(torch::isnan(v).unsqueeze(0), torch::zeros_like(rgb), rgb);
  return shown.repeat_interleave(cell, 1).repeat_interleave(cell, 2).to(torch::kFloat);
}

}  // namespace elbo::report
