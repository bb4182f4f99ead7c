#include "elbo/run/lattice_checks.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/lattice.h"
#include "elbo/diag/lattice_spectra.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/summaries.h"

#include <cmath>

namespace elbo::run {
namespace {

using torch::Tensor;

report::Series series(const std::string& label, const Tensor& x, const Tensor& y) {
  return {label, to_doubles(x), to_doubles(y)};
}

/// Mean and standard error of the mean of a [N] tensor.
Json mean_and_se(const Tensor& v) {
  const MeanSd m = mean_sd(v);
  return {{"mean", m.mean}, {"se", m.se()}};
}

std::string plus_minus(const Json& m, int digits) {
  return report::fixed(m["mean"].get<double>(), digits) + " ± " + report::fixed(m["se"].get<double>(), digits);
}

/// Block-spin factors: data.lattice_blocks (checked when the data were made), else 2, 4, 8 where they tile L.
std::vector<int64_t> block_factors(const Config& config, int64_t L) {
  std::vector<int64_t> blocks = config.get_ints("data.lattice_blocks");
  if (!blocks.empty()) return blocks;
  for (int64_t b : {2, 4, 8})
    if (L % b == 0 && L / b >= 2) blocks.push_back(b);
  return blocks;
}

/// The exact references of Gaussian free field data: true log-density, the linear (PPCA) optimum, and the
/// model's bounds against the truth on the same fields.
Json free_field_references(const Tensor& input, double mass, int64_t d, const diag::Evidence* evidence,
                           std::string& table) {
  const int64_t L = input.size(1), D = L * L, n = input.size(0);
  const Tensor spectrum = data::gff_spectrum(L, mass);
  const double truth = -0.5 * (D * std::log(2 * M_PI) + spectrum.log().sum().item<double>() + D);
  const Tensor truth_per_field = diag::stationary_gaussian_log_density(input, spectrum);
  Json j = {{"mass", mass}, {"log_likelihood_truth", truth}, {"test_log_likelihood_truth", mean_and_se(truth_per_field)}};
  table += "  Gaussian free field (m = " + report::fixed(mass, 3) + "): true log p(x) " + report::fixed(truth, 2) +
           " nats per field (expected), " + plus_minus(j["test_log_likelihood_truth"], 2) + " on these fields\n";
  if (d >= 1 && d < D) {
    const diag::PpcaOptimum opt = diag::ppca_optimum(spectrum.flatten(), d);
    const Tensor f = opt.power_fraction.view({L, L});
    const Tensor kept = diag::shell_means(f.square() * spectrum).power / diag::shell_means(spectrum).power;
    j["ppca"] = {{"latent_dim", d},
                 {"noise_variance", opt.noise_variance},
                 {"log_likelihood", opt.log_likelihood},
                 {"minus_truth", opt.log_likelihood - truth},
                 {"power_ratio", json_array(kept)}};
    table += "  linear-decoder optimum (PPCA, d = " + std::to_string(d) + "): log p(x) " +
             report::fixed(opt.log_likelihood, 2) + ", sigma^2 " + report::fixed(opt.noise_variance, 4) +
             ", minus truth " + report::fixed(opt.log_likelihood - truth, 2) + "\n";
  }
  if (evidence && evidence->elbo.defined() && evidence->elbo.size(0) >= n) {
    const Tensor elbo = evidence->elbo.slice(0, 0, n).to(torch::kCPU, torch::kDouble) - truth_per_field;
    const Tensor iwae = evidence->log_px.slice(0, 0, n).to(torch::kCPU, torch::kDouble) - truth_per_field;
    j["elbo_minus_truth"] = mean_and_se(elbo);
    j["iwae_minus_truth"] = mean_and_se(iwae);
    table += "  this model minus the true log p(x), same fields: ELBO " + plus_minus(j["elbo_minus_truth"], 3) +
             ", IWAE " + plus_minus(j["iwae_minus_truth"], 3) + "\n";
  }
  return j;
}

/// Magnetization m of each spin field and the latent means most like it.
Json magnetization_statistics(const Tensor& spins, const Tensor& latent, std::string& table) {
  const Tensor m = spins.mean({1, 2});
  auto correlation = [](const Tensor& a, const Tensor& b) {
    const Tensor da = a - a.mean(), db = b - b.mean();
    const double denominator = std::sqrt((da.square().sum() * db.square().sum()).item<double>());
    return denominator > 0 ? (da * db).sum().item<double>() / denominator : 0.0;
  };
  std::vector<double> per_latent;
  int64_t best = 0;
  for (int64_t j = 0; j < latent.size(1); ++j) {
    per_latent.push_back(correlation(latent.select(1, j), m));
    if (std::abs(per_latent.back()) > std::abs(per_latent[best])) best = j;
  }
  const Tensor mu = latent.select(1, best);
  Json out = {{"mean_abs_m", m.abs().mean().item<double>()},
              {"var_abs_m", m.abs().var().item<double>()},
              {"latent_correlation", per_latent},
              {"best_latent", best},
              {"best_correlation", per_latent[best]},
              {"abs_correlation", correlation(mu.abs(), m.abs())},
              {"mean_abs_mu", mu.abs().mean().item<double>()},
              {"sd_mu", mu.std().item<double>()}};
  table += "  magnetization: <|m|> " + report::fixed(out["mean_abs_m"].get<double>(), 4) + "; latent " +
           std::to_string(best) + " correlates with m at " + report::fixed(per_latent[best], 3) + " (|mu| with |m|: " +
           report::fixed(out["abs_correlation"].get<double>(), 3) + "), <|mu|> " +
           report::fixed(out["mean_abs_mu"].get<double>(), 3) + "\n";
  return out;
}

}  // namespace

bool spin_data(const data::Dataset& data, const Config& config) {
  const std::string& source = config.get_string("data.lattice_model");
  return source == "ising" || (source == "file" && ((data.x == 0) | (data.x == 1)).all().item<bool>());
}

LatticeChecks check_lattice(model::Model& model, const data::Dataset& test, const Config& config, uint64_t seed,
                            const diag::Evidence* evidence) {
  const ImageShape& image = test.image;
  ELBO_CHECK(image.channels == 1 && image.height == image.width && image.height >= 2,
             "elbo::run::check_lattice: expected L x L fields of one channel, got images ", image.str());
  torch::NoGradGuard no_grad;
  seed_stream(seed, RngStream::evaluation, 7);
  const bool spins = spin_data(test, config);
  const int64_t L = image.height, n = std::min<int64_t>(test.size(), 1000);
  auto as_fields = [&](const Tensor& x) {
    const Tensor f = x.to(torch::kCPU, torch::kDouble).reshape({-1, L, L});
    return spins ? 2 * f - 1 : f;
  };
  std::vector<Tensor> inputs, reconstructions, codes;
  for (int64_t begin = 0; begin < n; begin += 200) {
    const data::Batch batch = test.slice(begin, std::min(n, begin + 200));
    const Tensor z = model.posterior(batch)->mean();
    inputs.push_back(batch.x);
    reconstructions.push_back(model.likelihood(z)->mean());
    codes.push_back(z.to(torch::kCPU, torch::kDouble));
  }
  const Tensor input = as_fields(torch::cat(inputs)), reconstruction = as_fields(torch::cat(reconstructions));
  const Tensor sample = as_fields(model.likelihood(model.sample_prior(n))->sample());
  const Tensor latent = torch::cat(codes);

  const diag::ShellRatio kept_power = diag::shell_power_ratio(reconstruction, input);
  const diag::ShellSpectrum &in = kept_power.input, &rec = kept_power.reconstruction;
  const Tensor g_in = diag::two_point_correlation(input), g_rec = diag::two_point_correlation(reconstruction),
               g_sample = diag::two_point_correlation(sample);
  const Tensor modes = diag::low_fourier_modes(input, std::max<int64_t>(1, model.latent_dim()));
  const Tensor cca = diag::canonical_correlations(latent, modes);
  const Tensor r = torch::arange(g_in.size(0), torch::kDouble);

  LatticeChecks c;
  c.json = {{"fields", n},
            {"L", L},
            {"spins", spins},
            {"shell_k", json_array(in.k)},
            {"shell_modes", json_array(in.modes)},
            {"power_input", json_array(in.power)},
            {"power_reconstruction", json_array(rec.power)},
            {"power_ratio", json_array(kept_power.ratio)},
            {"power_ratio_se", json_array(kept_power.se)},
            {"correlation_input", json_array(g_in)},
            {"correlation_reconstruction", json_array(g_rec)},
            {"correlation_samples", json_array(g_sample)},
            {"canonical_correlations_low_modes", json_array(cca)}};
  report::LinePlot spectrum{"Power per Fourier shell", "|k|", "power"}, kept{"Fraction kept", "|k|", "P_rec / P_in"},
      correlation{"Two-point function G(r)", "r", "G"};
  spectrum.series = {series("input", in.k, in.power), series("reconstruction", rec.k, rec.power)};
  kept.series = {series("reconstruction / input", in.k, kept_power.ratio)};
  Json blocks = Json::array();
  for (int64_t b : block_factors(config, L)) {
    const diag::ShellSpectrum coarse = diag::power_by_shell(diag::block_spin(input, b, spins));
    // On the coarse lattice |k'| = b |k| for the same physical wavelength: drawn at k' / b.
    spectrum.series.push_back(series("block spin b=" + std::to_string(b), coarse.k / b, coarse.power));
    blocks.push_back({{"b", b}, {"k", json_array(coarse.k / b)}, {"power", json_array(coarse.power)}});
  }
  c.json["block_spin"] = blocks;
  correlation.series = {series("input", r, g_in), series("reconstruction", r, g_rec), series("prior samples", r, g_sample)};

  std::string references;
  const bool raw_fields = !config.get_bool("data.standardize") && config.get_string("data.binarize") == "none";
  if (config.get_string("data.lattice_model") == "gff" && raw_fields) {
    c.json["gff"] = free_field_references(input, config.get_double("data.lattice_mass"), model.latent_dim(), evidence,
                                          references);
    if (c.json["gff"].contains("ppca"))
      kept.series.push_back({"linear optimum (PPCA)", to_doubles(in.k),
                             c.json["gff"]["ppca"]["power_ratio"].get<std::vector<double>>()});
  }
  if (spins && model.latent_dim() > 0) c.json["magnetization"] = magnetization_statistics(input, latent, references);

  std::string kept_text, cca_text;
  const auto ratios = to_doubles(kept_power.ratio), errors = to_doubles(kept_power.se), k = to_doubles(in.k),
             rho = to_doubles(cca);
  for (size_t i = 0; i < ratios.size() && i < 8; ++i)
    kept_text += "  " + report::fixed(k[i], 2) + ": " + report::fixed(ratios[i], 3) + "±" + report::fixed(errors[i], 3);
  for (size_t i = 0; i < rho.size() && i < 6; ++i) cca_text += " " + report::fixed(rho[i], 3);
  c.table = "  fraction of power kept per shell |k|:" + kept_text +
            "\n  canonical correlations, E_q[z|x] vs the lowest Fourier modes:" + cca_text + "\n" + references;
  c.section.heading = "Lattice field: Fourier shells and correlations";
  c.section.text = "Power per shell of |k| of " + std::to_string(n) + " test fields and of their reconstructions E[x | z = E_q[z|x]]" +
                   (spins ? " (spins s = 2x - 1)" : "") + ", and block-spin fields drawn at the wavelength they stand for; the "
                   "fraction kept per shell (with the linear optimum for Gaussian free field data); the connected "
                   "two-point function of inputs, reconstructions and prior samples; the canonical correlations of the "
                   "code with the lowest Fourier modes.";
  c.section.table = {{"fraction of power kept per shell |k|", kept_text},
                     {"canonical correlations (code vs lowest modes)", cca_text}};
  if (!references.empty()) c.section.table.push_back({"exact references", references});
  c.section.charts = {report::line_chart_row({spectrum, kept, correlation})};
  return c;
}

}  // namespace elbo::run
