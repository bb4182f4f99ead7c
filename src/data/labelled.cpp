#include "elbo/data/labelled.h"

#include "elbo/core/check.h"

#include <cmath>

namespace elbo::data {

Dataset keep_labels(const Dataset& train, int64_t labelled, int64_t repeat, uint64_t seed, bool labelled_only) {
  ELBO_CHECK(train.y.defined(), "data.labelled = ", labelled, ": the training data '", train.name,
             "' have no labels (IDX: data.train_labels, CSV: data.label_column)");
  ELBO_CHECK(labelled >= 1 && labelled <= train.size(), "data.labelled must be in 1..", train.size(),
             " (the training examples of '", train.name, "'), got ", labelled);
  ELBO_CHECK(repeat >= 0, "data.labelled_repeat must be >= 0 (got ", repeat, ")");
  const torch::Tensor y = train.y.cpu();
  const int64_t classes = y.max().item<int64_t>() + 1;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<torch::Tensor> chosen;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t want = labelled / classes + (c < labelled % classes ? 1 : 0);
    const torch::Tensor rows = (y == c).nonzero().squeeze(1);
    ELBO_CHECK(rows.numel() >= want, "data.labelled = ", labelled, ": class ", c, " has ", rows.numel(),
               " training examples, fewer than its share of ", want);
    chosen.push_back(rows.index_select(0, torch::randperm(rows.numel(), gen, torch::kLong).slice(0, 0, want)));
  }
  const torch::Tensor labelled_rows = std::get<0>(torch::cat(chosen).sort());
  const int64_t n = train.size();
  if (repeat == 0)
    repeat = std::max<int64_t>(1, std::llround(static_cast<double>(n - labelled) / (9.0 * static_cast<double>(labelled))));
  std::vector<torch::Tensor> index;
  if (!labelled_only) index.push_back(torch::arange(n, torch::kLong));
  for (int64_t r = labelled_only ? 0 : 1; r < repeat; ++r) index.push_back(labelled_rows);
  Dataset out = train.subset(torch::cat(index).to(train.x.device()));
  torch::Tensor mask = torch::ones({out.size()}, torch::kFloat32);
  if (!labelled_only) {
    mask.slice(0, 0, n).zero_();
    mask.index_fill_(0, labelled_rows, 1.0f);
  }
  out.y_mask = mask.to(train.y.device());
  return out;
}

Dataset hide_labels(Dataset data) {
  if (data.y.defined()) data.y_mask = torch::zeros({data.size()}, torch::TensorOptions(torch::kFloat32).device(data.y.device()));
  return data;
}

}  // namespace elbo::data
