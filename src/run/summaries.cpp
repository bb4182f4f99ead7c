#include "elbo/run/summaries.h"

#include "elbo/core/json.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"

#include <iomanip>
#include <sstream>

namespace elbo::run {
namespace {

using report::fixed;

std::string summary_row(const std::string& key, const std::string& value) { return table_row(key, value); }

}  // namespace

std::string summary_table(const diag::Summary& s) {
  std::string out = summary_row("test examples", std::to_string(s.examples)) + summary_row("ELBO (nats)", fixed(s.elbo)) +
                    summary_row("  reconstruction E_q log p(x|z)", fixed(s.reconstruction)) +
                    summary_row("  KL(q(z|x) || p(z))", fixed(s.kl)) +
                    summary_row("log p(x), IWAE K=" + std::to_string(s.k), fixed(s.log_px) + " ± " + fixed(s.log_px_se)) +
                    summary_row("ELBO gap  log p(x) - ELBO", fixed(s.gap) + " ± " + fixed(s.gap_se)) +
                    summary_row("Pinsker bound on TV(q, p(z|x))", fixed(s.pinsker_tv, 4));
  if (s.activity.activity.defined())
    out += summary_row("active units (Var E_q[z] > 0.01)",
               std::to_string(s.activity.active_units) + " / " + std::to_string(s.activity.activity.numel()));
  if (s.groups.size() > 1)
    for (const auto& g : s.groups)
      out += summary_row("  KL " + g.name + " (" + std::to_string(g.dims) + " dims)",
                 fixed(g.kl) + (g.active_units >= 0 ? ", active units " + std::to_string(g.active_units) : std::string()));
  if (s.activity.kl_per_dim.defined()) {
    std::string kl;
    const torch::Tensor d = s.activity.kl_per_dim;
    for (int64_t i = 0; i < d.numel(); ++i) kl += (i ? " " : "") + fixed(d[i].item<double>(), 2);
    out += summary_row("KL per latent dimension", kl);
  }
  return out;
}

std::string table_row(const std::string& key, const std::string& value, int width) {
  std::ostringstream o;
  o << "  " << std::left << std::setw(width) << key << value << "\n";
  return o.str();
}

std::vector<double> to_doubles(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

MeanSd mean_sd(const torch::Tensor& values) {
  MeanSd m;
  if (!values.defined()) return m;
  const torch::Tensor d = values.to(torch::kDouble), v = d.masked_select(torch::isfinite(d));
  m.n = v.numel();
  if (m.n == 0) return m;
  m.mean = v.mean().item<double>();
  m.sd = m.n > 1 ? v.std().item<double>() : 0.0;
  return m;
}

void to_json(Json& j, const MeanSd& m) { j = Json{{"mean", m.mean}, {"sd", m.sd}}; }

std::string bits_per_base_table(double elbo, double iwae, double se, int64_t k) {
  return summary_row("bits per base, -ELBO", fixed(elbo, 4)) +
         summary_row("bits per base, -IWAE K=" + std::to_string(k), fixed(iwae, 4) + " ± " + fixed(se, 4));
}

std::string collapse_warning(const diag::Summary& summary) {
  const int64_t dims = summary.activity.activity.defined() ? summary.activity.activity.numel() : 0;
  if (dims == 0 || 2 * summary.activity.active_units >= dims) return "";
  return "posterior collapse: only " + std::to_string(summary.activity.active_units) + " of " + std::to_string(dims) +
         " latent units are active (Var_x E_q[z_i] > 0.01); the code carries little information. Remedies: "
         "objective.warmup_steps (KL warm-up), objective.free_bits, model.decoder_init_scale (small decoder init), "
         "a lower objective.beta or a weaker decoder.";
}

std::string classification_table(const diag::Classification& c) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  out << "  " << std::left << std::setw(34) << "test error of q(y|x)" << 100 * c.error << "% ± " << 100 * c.error_se
      << "% (" << c.examples << " examples)\n  confusion matrix (rows: true class, columns: predicted)\n";
  for (int64_t i = 0; i < c.confusion.size(0); ++i) {
    out << "    " << std::right << std::setw(3) << i << " |";
    for (int64_t j = 0; j < c.confusion.size(1); ++j) out << " " << std::setw(5) << c.confusion[i][j].item<int64_t>();
    out << "\n";
  }
  return out.str();
}

report::Section classification_section(const diag::Classification& c) {
  std::ostringstream error;
  error << std::fixed << std::setprecision(3) << 100 * c.error << "% ± " << 100 * c.error_se << "%";
  report::Section s;
  s.heading = "Confusion matrix";
  s.text = "The classifier q(y|x) on " + std::to_string(c.examples) +
           " test examples. Rows: true class; columns: the most probable class under q(y|x).";
  s.table.emplace_back("test error of q(y|x)", error.str());
  for (int64_t i = 0; i < c.confusion.size(0); ++i) {
    std::string counts;
    for (int64_t j = 0; j < c.confusion.size(1); ++j) counts += (j ? " " : "") + std::to_string(c.confusion[i][j].item<int64_t>());
    s.table.emplace_back("class " + std::to_string(i), counts);
  }
  return s;
}

std::string imputation_table(const diag::ImputationScores& s) {
  return summary_row("imputation RMSE (hidden entries)", fixed(s.rmse) + " (" + std::to_string(s.hidden) + " entries of " +
                                                     std::to_string(s.examples) + " rows)") +
         summary_row("coverage of 50% / 90% intervals", fixed(s.coverage50) + " / " + fixed(s.coverage90)) +
         summary_row("log p(x_hid | x_obs) per entry", fixed(s.log_likelihood) + " nats (K=" + std::to_string(s.particles) +
                                                   ", " + std::to_string(s.draws) + " draws, ESS " +
                                                   fixed(s.effective_sample_size) + ")");
}

report::Section imputation_section(const diag::ImputationScores& s, const std::string& picture) {
  auto num = [](double v) { return fixed(v, 4); };
  report::Section sec;
  sec.heading = "Imputation";
  sec.text = "Multiple imputation of the entries data.missing hid, by sampling importance resampling (Mattei & Frellsen "
             "2019): K = " + std::to_string(s.particles) + " draws z ~ q(z|x_obs) weighted by p(x_obs|z) p(z) / q(z|x_obs), " +
             std::to_string(s.draws) + " resampled, x_mis ~ p(x_mis|z). RMSE of the weighted mean in the data's units "
             "(standardized for tables with data.standardize); coverage: hidden values inside the draws' central intervals.";
  sec.table = {{"hidden entries scored", std::to_string(s.hidden) + " in " + std::to_string(s.examples) + " rows"},
               {"RMSE of the imputed mean", num(s.rmse)},
               {"coverage of the 50% interval", num(s.coverage50)},
               {"coverage of the 90% interval", num(s.coverage90)},
               {"log p(x_hid | x_obs), nats per hidden entry", num(s.log_likelihood)},
               {"effective sample size of the weights (mean)", num(s.effective_sample_size)}};
  if (!picture.empty())
    sec.figures = {{"Each row: the input (missing entries grey), its mask (white = observed), the true image, the "
                    "imputed mean, four imputations (each the mean of p(x_mis | z) for a resampled code z)",
                    picture,
                    "Rows of eight images, one row per test example: the input with its hidden part grey, the mask, the "
                    "true image, the imputed mean and four imputations"}};
  return sec;
}

std::string gaps_table(const diag::Gaps& g) {
  auto gap = [](const diag::Gap& x) { return fixed(x.mean) + " ± " + fixed(x.se) + " (MC ± " + fixed(x.mc_se) + ")"; };
  return summary_row("ELBO, amortized q(z|x)", fixed(g.elbo_amortized_mean)) +
         summary_row("ELBO*, refined q*(z|x)", fixed(g.elbo_refined_mean) + " (" + std::to_string(g.refined.steps) +
                                          " steps" + (g.refined.converged ? "" : ", not converged") + ")") +
         summary_row("log p(x), IWAE with q or q*", fixed(g.log_px_mean)) +
         summary_row("approximation gap log p - ELBO*", gap(g.approximation)) +
         summary_row("amortization gap  ELBO* - ELBO", gap(g.amortization)) +
         summary_row("total gap  log p(x) - ELBO", gap(g.total)) +
         summary_row("Pinsker bound TV, amortized q", fixed(g.pinsker_amortized, 4)) +
         summary_row("Pinsker bound TV, refined q*", fixed(g.pinsker_refined, 4));
}

report::Section gaps_section(const diag::Gaps& g) {
  auto gap = [](const diag::Gap& x) { return fixed(x.mean) + " ± " + fixed(x.se) + " (MC ± " + fixed(x.mc_se) + ")"; };
  report::Section s;
  s.heading = "Inference gaps";
  s.text = "Cremer, Li & Duvenaud (2018): log p(x) - ELBO[q] = approximation gap (log p(x) - ELBO[q*], q* the best "
           "diagonal Gaussian per example, found by Adam) + amortization gap (ELBO[q*] - ELBO[q]). Bars: 0 approximation, "
           "1 amortization, 2 total (nats, mean over " + std::to_string(g.examples) + " test examples).";
  s.table = {{"log p(x), IWAE-" + std::to_string(g.k) + " with q or q* as proposal",
              fixed(g.log_px_mean)},
             {"ELBO, amortized q", fixed(g.elbo_amortized_mean)},
             {"ELBO, refined q*", fixed(g.elbo_refined_mean)},
             {"approximation gap", gap(g.approximation)},
             {"amortization gap", gap(g.amortization)},
             {"total gap", gap(g.total)},
             {"Pinsker bound on TV, amortized q", fixed(g.pinsker_amortized, 4)},
             {"Pinsker bound on TV, refined q*", fixed(g.pinsker_refined, 4)}};
  s.charts = {report::bar_chart("Inference gaps", {g.approximation.mean, g.amortization.mean, g.total.mean},
                                 "0 approximation, 1 amortization, 2 total", "nats", {"approximation", "amortization", "total"})};
  return s;
}

report::Section information_section(const diag::Information& i) {
  report::Section s;
  s.heading = "Information";
  s.text = "I(x;z) under the aggregate posterior of the evaluated examples (never above log N, biased low for finite N); "
           "rate + distortion = -ELBO.";
  s.table = {{"mutual information I(x;z)", fixed(i.mutual_information) + " ± " + fixed(i.mutual_information_se)},
             {"log N (ceiling of the estimate)", fixed(i.log_n)},
             {"rate E KL(q(z|x) || p(z))", fixed(i.rate) + " ± " + fixed(i.rate_se)},
             {"distortion -E log p(x|z)", fixed(i.distortion) + " ± " + fixed(i.distortion_se)},
             {"KL(q(z) || p(z))", fixed(i.marginal_kl)}};
  return s;
}

std::string information_table(const diag::Information& i) {
  return summary_row("mutual information I(x;z)",
             fixed(i.mutual_information) + " ± " + fixed(i.mutual_information_se) + " (<= log N = " + fixed(i.log_n) + ")") +
         summary_row("rate E KL(q(z|x) || p(z))", fixed(i.rate) + " ± " + fixed(i.rate_se)) +
         summary_row("distortion -E log p(x|z)", fixed(i.distortion) + " ± " + fixed(i.distortion_se)) +
         summary_row("KL(q(z) || p(z)) = rate - I", fixed(i.marginal_kl));
}

std::string mig_factor(const diag::Mig& m, size_t k) {
  return fixed(m.gaps[k]) + " (best dimension " + std::to_string(m.best_dims[k]) + ", H = " + fixed(m.entropies[k]) +
         " nats)";
}

std::string mig_table(const diag::Mig& m) {
  std::string out = summary_row("MIG (" + std::to_string(m.bins) + " bins)", fixed(m.mig));
  for (size_t k = 0; k < m.gaps.size(); ++k) out += summary_row("  gap of factor " + m.factor_names[k], mig_factor(m, k));
  return out;
}

report::Section mig_section(const diag::Mig& m) {
  report::Section s;
  s.heading = "Disentanglement (MIG)";
  s.text = "Mutual Information Gap (Chen et al. 2018) of the encoder means against the data's known factors: per factor, "
           "(I(z_best; v) - I(z_second; v)) / H(v) over the code dimensions, then the mean over factors. Each dimension "
           "is cut into " + std::to_string(m.bins) + " equal-width bins; plug-in estimates over " +
           std::to_string(m.examples) + " test examples (biased up by about (bins - 1)(values - 1) / 2N nats).";
  s.table = {{"MIG", fixed(m.mig)}};
  std::string axis;
  for (size_t k = 0; k < m.gaps.size(); ++k) {
    s.table.emplace_back("gap of factor " + m.factor_names[k], mig_factor(m, k));
    axis += (k ? ", " : "") + std::to_string(k) + " " + m.factor_names[k];
  }
  s.charts = {report::bar_chart("Normalized gap per factor", m.gaps, axis, "gap / H(v)", m.factor_names)};
  return s;
}

}  // namespace elbo::run
