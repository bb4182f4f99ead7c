#include "elbo/run/pictures.h"

#include "elbo/core/rng.h"
#include "elbo/diag/imputation.h"

#include <algorithm>

namespace elbo::run {

namespace {

/// What to show for p(x|z, y): the mean, or the most likely class for categorical data, whose
/// mean has a class axis after the event axis (y: labels of a conditional model; unconditional
/// models ignore them).
torch::Tensor decoded(model::Model& model, const torch::Tensor& z, const torch::Tensor& y = {}) {
  const dist::DistributionPtr px = model.likelihood(z, y);
  const torch::Tensor mean = px->mean();
  if (mean.dim() > static_cast<int64_t>(px->sample_shape().size())) return mean.argmax(-1).to(torch::kFloat);
  return mean;
}

}  // namespace

Pictures make_pictures(model::Model& model, const data::Dataset& test, const Config& config,
                       const torch::Tensor& kl_per_dim) {
  torch::NoGradGuard no_grad;
  seed_stream(static_cast<uint64_t>(config.get_int("train.seed")), RngStream::evaluation, 1u << 30);
  Pictures p;
  if (model.latent_dim() == 0) return p;  // no per-example code to sample, decode or traverse
  const int64_t samples = config.get_int("report.samples");
  if (const int64_t classes = model.classes(); classes > 0) {
    // A conditional model: one row per class, the same number of prior draws in each.
    p.sample_columns = std::max<int64_t>(1, samples / classes);
    torch::Tensor z = model.sample_prior(classes * p.sample_columns);
    torch::Tensor y = torch::arange(classes, z.options().dtype(torch::kLong)).repeat_interleave(p.sample_columns);
    p.samples = decoded(model, z, y).cpu();
  } else {
    p.samples = decoded(model, model.sample_prior(samples)).cpu();
  }
  const int64_t columns = 16;
  const int64_t n = std::min<int64_t>(32, test.size());
  if (n >= 1) {
    data::Batch batch = test.slice(0, n);
    torch::Tensor rec = decoded(model, model.posterior(batch)->mean(), batch.y).cpu();
    // Row pairs: inputs above their reconstructions.
    std::vector<torch::Tensor> rows;
    for (int64_t begin = 0; begin < n; begin += columns) {
      const int64_t end = std::min(n, begin + columns);
      rows.push_back(batch.x.slice(0, begin, end).cpu());
      rows.push_back(rec.slice(0, begin, end));
    }
    p.reconstructions = torch::cat(rows);
    p.reconstruction_columns = std::min(columns, n);
  }
  const int64_t steps = config.get_int("report.interpolation_steps");
  const int64_t pairs = std::min<int64_t>(8, test.size() / 2);
  if (pairs >= 1) {
    data::Batch ends = test.slice(0, 2 * pairs);
    torch::Tensor codes = model.posterior(ends)->mean();
    torch::Tensor a = codes.slice(0, 0, pairs), b = codes.slice(0, pairs, 2 * pairs);
    torch::Tensor t = torch::linspace(0, 1, steps, codes.options()).view({1, steps, 1});
    torch::Tensor path = a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t;  // [pairs, steps, D]
    // A conditional model decodes each row with the label of its first image.
    torch::Tensor labels =
        ends.y.defined() ? ends.y.slice(0, 0, pairs).unsqueeze(1).expand({pairs, steps}).reshape({-1}) : torch::Tensor();
    torch::Tensor images = decoded(model, path.reshape({pairs * steps, -1}), labels).cpu().view({pairs, steps, -1});
    // Each row: first input, the path between the two codes, second input.
    torch::Tensor x = ends.x.cpu();
    p.interpolation = torch::cat({x.slice(0, 0, pairs).unsqueeze(1), images, x.slice(0, pairs, 2 * pairs).unsqueeze(1)}, 1)
                          .reshape({pairs * (steps + 2), -1});
    p.interpolation_columns = steps + 2;
  }
  if (test.size() >= 1) {
    // Latent traversal: the first test example's posterior mean with one dimension at a time swept
    // over -3..3 prior standard deviations; at most 10 dimensions, largest KL first.
    data::Batch first = test.slice(0, 1);
    torch::Tensor code = model.posterior(first)->mean();  // [1, D]
    const int64_t d = code.size(1), values = 9, rows = std::min<int64_t>(10, d);
    const torch::Tensor order = kl_per_dim.defined() && kl_per_dim.numel() == d
                                    ? torch::argsort(kl_per_dim.cpu(), 0, /*descending=*/true)
                                    : torch::arange(d, torch::kLong);
    const double reach = 3 * config.get_double("model.prior_scale");
    torch::Tensor z = code.repeat({rows * values, 1}).view({rows, values, d});
    for (int64_t r = 0; r < rows; ++r) {
      p.traversal_dims.push_back(order[r].item<int64_t>());
      z[r].select(1, p.traversal_dims.back()).copy_(torch::linspace(-reach, reach, values, code.options()));
    }
    torch::Tensor labels = first.y.defined() ? first.y.expand({rows * values}) : torch::Tensor();
    p.traversal = decoded(model, z.view({rows * values, d}), labels).cpu();
    p.traversal_columns = values;
  }
  if (const int64_t classes = model.classes(); classes > 0 && test.size() >= 1) {
    const int64_t rows = std::min<int64_t>(8, test.size());
    data::Batch batch = test.slice(0, rows);
    const torch::Tensor code = model.posterior(batch)->mean();  // [rows, D]
    const torch::Tensor z = code.repeat_interleave(classes, 0);
    const torch::Tensor y = torch::arange(classes, code.options().dtype(torch::kLong)).repeat({rows});
    const torch::Tensor images = decoded(model, z, y).cpu().view({rows, classes, -1});
    p.analogies = torch::cat({batch.x.cpu().unsqueeze(1), images}, 1).reshape({rows * (classes + 1), -1});
    p.analogy_columns = classes + 1;
  }
  return p;
}

ImputationPicture imputation_picture(model::Model& model, const data::Dataset& data, int64_t rows, int64_t particles,
                                     uint64_t seed) {
  constexpr int64_t kDraws = 4;
  ImputationPicture p;
  const data::Dataset first = data.subset(torch::arange(std::min(rows, data.size()), torch::kLong));
  diag::ImputationOptions o;
  o.particles = particles;
  o.draws = kDraws;
  o.seed = seed;
  o.code_means = true;
  const diag::Imputation imp = diag::impute(model, first, o);
  const data::Batch batch = first.slice(0, first.size());
  const torch::Tensor mask = batch.mask.defined() ? batch.mask.cpu().to(torch::kFloat) : torch::ones_like(batch.x.cpu());
  const torch::Tensor input = torch::where(mask > 0, batch.x.cpu(), torch::full_like(mask, 0.5));
  const torch::Tensor truth = data::float_features(first.x).cpu();
  std::vector<torch::Tensor> columns{input, mask, truth, imp.mean.cpu().to(torch::kFloat)};
  for (int64_t m = 0; m < kDraws; ++m) columns.push_back(imp.draws[m].cpu().to(torch::kFloat));
  p.images = torch::stack(columns, 1).reshape({first.size() * static_cast<int64_t>(columns.size()), -1});
  p.columns = static_cast<int64_t>(columns.size());
  return p;
}

}  // namespace elbo::run
