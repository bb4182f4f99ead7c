#include "elbo/run/multimodal.h"

#include "elbo/core/check.h"
#include "elbo/data/multimodal.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/run_directory.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace elbo::run {

std::pair<torch::Tensor, ImageShape> side_by_side(const torch::Tensor& x, const std::vector<data::Modality>& layout) {
  std::vector<torch::Tensor> parts;
  ImageShape shape{0, 0, 0};
  for (const auto& m : layout) {
    if (!m.image.is_image()) continue;
    if (parts.empty()) shape = ImageShape{m.image.channels, m.image.height, 0};
    if (m.image.channels != shape.channels || m.image.height != shape.height) continue;
    parts.push_back(x.narrow(1, m.begin, m.width).reshape({x.size(0), m.image.channels, m.image.height, m.image.width}));
    shape.width += m.image.width;
  }
  ELBO_CHECK(!parts.empty(), "this run has no image modality to draw; write .csv instead");
  return {torch::cat(parts, 3).reshape({x.size(0), -1}), shape};
}

MultimodalPrediction predict_modalities(model::Model& model, const data::Dataset& test,
                                        const std::vector<size_t>& from, const std::vector<size_t>& to,
                                        const diag::ImputationOptions& options) {
  const data::Dataset query = data::select_modalities(test, from, to);
  // Blocks of rows so that the draws [M, rows, D] of a large test set are never held at once.
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 24) / std::max<int64_t>(1, options.draws * test.features()));
  MultimodalPrediction p;
  std::vector<torch::Tensor> means, draws, log_liks, ess;
  for (int64_t begin = 0; begin < test.size(); begin += block) {
    const int64_t end = std::min(test.size(), begin + block);
    const diag::Imputation imp = diag::impute(model, query.subset(torch::arange(begin, end, torch::kLong)), options);
    means.push_back(imp.mean.cpu().to(torch::kDouble));
    draws.push_back(imp.draws.cpu().to(torch::kDouble));
    log_liks.push_back(imp.hidden_log_likelihood.cpu().to(torch::kDouble));
    ess.push_back(imp.effective_sample_size.cpu().to(torch::kDouble));
  }
  p.mean = torch::cat(means);
  p.draws = torch::cat(draws, 1);
  p.log_likelihood = torch::cat(log_liks);
  p.effective_sample_size = torch::cat(ess);
  torch::Tensor from_here = torch::zeros({test.size()}, torch::kBool), to_here = from_here.clone();
  for (size_t f : from) from_here |= data::present(test.mask, test.modalities[f], test.size()).cpu();
  for (size_t t : to) to_here |= data::present(test.mask, test.modalities[t], test.size()).cpu();
  p.scored = from_here & to_here;
  p.draws_are_means = options.code_means;
  return p;
}

std::string prediction_table(const data::Splits& splits, const data::Dataset& test, const std::vector<size_t>& to,
                             const MultimodalPrediction& p) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(4);
  const torch::Tensor rows = p.scored.nonzero().view(-1);
  out << "  rows with a --from and a --to modality: " << rows.numel() << " of " << test.size() << "\n";
  if (rows.numel() == 0) return out.str();
  out << "  effective sample size of the importance weights (mean over rows)  "
      << p.effective_sample_size.index_select(0, rows).mean().item<double>() << "\n";
  for (size_t t : to) {
    const data::Modality& m = test.modalities[t];
    const torch::Tensor truth = test.x.narrow(1, m.begin, m.width).cpu().to(torch::kDouble).index_select(0, rows);
    const torch::Tensor known = test.mask.narrow(1, m.begin, m.width).cpu().index_select(0, rows) > 0;
    const torch::Tensor train_x = splits.train.x.narrow(1, m.begin, m.width).cpu().to(torch::kDouble);
    const torch::Tensor train_known = splits.train.mask.narrow(1, m.begin, m.width).cpu().to(torch::kDouble);
    const torch::Tensor draws = p.draws.narrow(2, m.begin, m.width).index_select(1, rows);  // [M, R, W]
    out << "  " << m.name << " (" << m.likelihood << ", " << m.width << " columns):\n";
    if (m.likelihood == "categorical") {
      const torch::Tensor mode = torch::one_hot(draws.to(torch::kLong), m.categories).sum(0).argmax(-1).to(torch::kDouble);
      const torch::Tensor train_mode =
          torch::one_hot(train_x.to(torch::kLong), m.categories).mul(train_known.unsqueeze(-1).to(torch::kLong)).sum(0).argmax(-1);
      const double n = known.sum().item<double>();
      out << "    error of the most frequent predicted class  " << ((mode != truth) & known).sum().item<double>() / n
          << "  (the training set's most frequent class: "
          << ((train_mode.to(torch::kDouble).unsqueeze(0) != truth) & known).sum().item<double>() / n << ")\n";
      continue;
    }
    // In the model's units: a standardized column in its training standard deviations.
    const torch::Tensor train_mean = (train_x * train_known).sum(0) / train_known.sum(0).clamp_min(1);
    auto rmse = [&](const torch::Tensor& prediction) {
      const torch::Tensor e = (prediction - truth).square();
      return std::sqrt(e.masked_select(known).mean().item<double>());
    };
    const torch::Tensor mean = p.mean.narrow(1, m.begin, m.width).index_select(0, rows);
    const torch::Tensor q = torch::quantile(draws, torch::tensor({0.05, 0.95}, torch::kDouble), 0);
    const double coverage = ((truth >= q[0]) & (truth <= q[1])).masked_select(known).to(torch::kDouble).mean().item<double>();
    out << "    RMSE of the predicted mean  " << rmse(mean) << "  (predicting the training mean: "
        << rmse(train_mean.unsqueeze(0).expand_as(truth)) << ")\n";
    // Intervals of draws x ~ p(x | z); a Bernoulli's 0/1 draws have none worth scoring.
    if (!p.draws_are_means && m.likelihood != "bernoulli" && m.likelihood != "continuous_bernoulli")
      out << "    coverage of the 90% interval  " << coverage << "\n";
  }
  bool standardized = false;
  for (size_t t : to) standardized = standardized || test.modalities[t].standardize;
  out << "  log p(x_to | x_from)  " << p.log_likelihood.index_select(0, rows).mean().item<double>() << " nats per row"
      << (standardized ? " (standardized columns in training standard deviations)" : "") << "\n";
  return out.str();
}

report::Section multimodal_section(model::Model& model, const data::Dataset& test,
                                   const std::vector<diag::CrossModalScore>& scores, const std::string& dir, int64_t k) {
  const auto& layout = test.modalities;
  report::Section sec;
  sec.heading = "Modalities";
  sec.text = "One latent z behind every modality, q(z | the modalities a row has) a product of experts (Wu & Goodman "
             "2018). log p(x_m | others): importance-weighted with q(z | others) as proposal (K = " + std::to_string(k) +
             "); log p(x_m): IWAE with q(z | x_m); their difference is the information the other modalities carry "
             "about m, in nats per row (standardized columns in training standard deviations).";
  for (const auto& c : scores)
    sec.table.push_back({c.modality + ": log p(x | others) / log p(x) / difference (" + std::to_string(c.rows) + " rows)",
                         report::fixed(c.conditional) + " / " + report::fixed(c.marginal) + " / " + report::fixed(c.information())});
  // Latent means in the plane of their two principal axes, one colour per pattern of present modalities.
  const int64_t rows = std::min<int64_t>(test.size(), 2000);
  const data::Dataset shown = test.subset(torch::arange(rows, torch::kLong));
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    const data::Batch batch = shown.slice(0, rows);
    z = model.posterior(batch)->mean().cpu().to(torch::kDouble);
  }
  z = z - z.mean(0);
  const auto svd = torch::linalg_svd(z, /*full_matrices=*/false);
  const torch::Tensor plane = z.matmul(std::get<2>(svd).narrow(0, 0, std::min<int64_t>(2, z.size(1))).t());
  std::vector<torch::Tensor> here;  // [rows] bool per modality
  for (const auto& m : layout) here.push_back(data::present(shown.mask, m, rows).cpu());
  std::map<std::string, report::Series> by_pattern;
  for (int64_t i = 0; i < rows; ++i) {
    std::string pattern;
    for (size_t j = 0; j < layout.size(); ++j)
      if (here[j][i].item<bool>()) pattern += (pattern.empty() ? "" : "+") + layout[j].name;
    report::Series& s = by_pattern[pattern];
    s.label = pattern;
    s.points = true;
    s.x.push_back(plane[i][0].item<double>());
    s.y.push_back(plane.size(1) > 1 ? plane[i][1].item<double>() : 0.0);
  }
  report::LinePlot plot{"Latent means by the modalities each row has", "principal axis 1", "principal axis 2", {}};
  for (auto& [pattern, series] : by_pattern) plot.series.push_back(series);
  sec.charts.push_back(report::line_chart(plot, 560, 380));
  // Reconstruction and cross-generation: every modality decoded from E_q[z | one modality], for rows
  // that have them all.
  bool images = false;
  for (const auto& m : layout) images = images || m.image.is_image();
  torch::Tensor all = torch::ones({test.size()}, torch::kBool);
  for (const auto& m : layout) all &= data::present(test.mask, m, test.size()).cpu();
  const torch::Tensor complete = all.nonzero().view(-1);
  if (images && complete.numel() > 0) {
    torch::NoGradGuard no_grad;
    const int64_t n = std::min<int64_t>(complete.numel(), 8);
    const data::Dataset first = test.subset(complete.narrow(0, 0, n).to(test.x.device()));
    const auto [truth, shape] = side_by_side(first.x.cpu().to(torch::kFloat), layout);
    std::vector<torch::Tensor> cells{truth};
    std::string caption = "Each row: the truth, then every modality decoded (the mean of p(x | z) at z = E_q[z | ...]) from ";
    std::vector<size_t> every(layout.size());
    for (size_t i = 0; i < layout.size(); ++i) every[i] = i;
    for (size_t f = 0; f <= layout.size(); ++f) {  // f = layout.size(): from all of them
      const std::vector<size_t> given = f < layout.size() ? std::vector<size_t>{f} : every;
      const data::Batch batch = data::select_modalities(first, given, {}).slice(0, n);
      const torch::Tensor decoded = model.likelihood(model.posterior(batch)->mean())->mean();
      cells.push_back(side_by_side(decoded.cpu().to(torch::kFloat), layout).first);
      caption += (f ? ", " : "") + (f < layout.size() ? layout[f].name + " alone" : std::string("all modalities"));
    }
    const std::string path = dir + "/cross_generation.png";
    write_examples(path, torch::stack(cells, 1).reshape({n * static_cast<int64_t>(cells.size()), -1}), shape,
                   static_cast<int64_t>(cells.size()));
    sec.figures.push_back({caption, path,
                           std::to_string(n) + " rows of " + std::to_string(cells.size()) +
                               " pictures: the true example, then its modalities decoded from each modality alone and "
                               "from all of them"});
  }
  return sec;
}

}  // namespace elbo::run
