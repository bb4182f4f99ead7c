#include "elbo/run/lattice_checks.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/diag/lattice_spectra.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/summaries.h"


namespace elbo::run {
namespace {

using torch::Tensor;

report::Series series(const std::string& label, const Tensor& x, const Tensor& y) {
  return {label, to_doubles(x), to_doubles(y)};
}

}  // namespace

LatticeChecks check_lattice(model::Model& model, const data::Dataset& test, bool spins, uint64_t seed) {
  const ImageShape& image = test.image;
  ELBO_CHECK(image.channels == 1 && image.height == image.width && image.height >= 2,
             "elbo::run::check_lattice: expected L x L fields of one channel, got images ", image.str());
  torch::NoGradGuard no_grad;
  seed_stream(seed, RngStream::evaluation, 7);
  const int64_t L = image.height, n = std::min<int64_t>(test.size(), 1000);
  auto as_fields = [&](const Tensor& x) {
    const Tensor f = x.to(torch::kDouble).reshape({-1, L, L});
    return spins ? 2 * f - 1 : f;
  };
  std::vector<Tensor> inputs, reconstructions, codes;
  for (int64_t begin = 0; begin < n; begin += 200) {
    const data::Batch batch = test.slice(begin, std::min(n, begin + 200));
    const Tensor z = model.posterior(batch)->mean();
    inputs.push_back(batch.x);
    reconstructions.push_back(model.likelihood(z)->mean());
    codes.push_back(z.to(torch::kDouble));
  }
  const Tensor input = as_fields(torch::cat(inputs)), reconstruction = as_fields(torch::cat(reconstructions));
  const Tensor sample = as_fields(model.likelihood(model.sample_prior(n))->sample());
  const Tensor latent = torch::cat(codes);

  const diag::ShellSpectrum in = diag::power_by_shell(input), rec = diag::power_by_shell(reconstruction);
  const Tensor ratio = diag::shell_ratio(rec, in);
  const Tensor g_in = diag::two_point_correlation(input), g_rec = diag::two_point_correlation(reconstruction),
               g_sample = diag::two_point_correlation(sample);
  const Tensor modes = diag::low_fourier_modes(input, std::max<int64_t>(1, model.latent_dim()));
  const Tensor cca = diag::canonical_correlations(latent, modes);
  const Tensor r = torch::arange(g_in.size(0), torch::kDouble);

  LatticeChecks c;
  c.json = {{"fields", n},
            {"L", L},
            {"shell_k", json_array(in.k)},
            {"shell_modes", json_array(in.modes)},
            {"power_input", json_array(in.power)},
            {"power_reconstruction", json_array(rec.power)},
            {"power_ratio", json_array(ratio)},
            {"correlation_input", json_array(g_in)},
            {"correlation_reconstruction", json_array(g_rec)},
            {"correlation_samples", json_array(g_sample)},
            {"canonical_correlations_low_modes", json_array(cca)}};
  report::LinePlot spectrum{"Power per Fourier shell", "|k|", "power"}, kept{"Fraction kept", "|k|", "P_rec / P_in"},
      correlation{"Two-point function G(r)", "r", "G"};
  spectrum.series = {series("input", in.k, in.power), series("reconstruction", rec.k, rec.power)};
  kept.series = {series("reconstruction / input", in.k, ratio)};
  Json blocks = Json::array();
  for (int64_t b : {2, 4, 8}) {
    if (L % b != 0 || L / b < 2) continue;
    const diag::ShellSpectrum coarse = diag::power_by_shell(diag::block_spin(input, b, spins));
    // On the coarse lattice |k'| = b |k| for the same physical wavelength: drawn at k' / b.
    spectrum.series.push_back(series("block spin b=" + std::to_string(b), coarse.k / b, coarse.power));
    blocks.push_back({{"b", b}, {"k", json_array(coarse.k / b)}, {"power", json_array(coarse.power)}});
  }
  c.json["block_spin"] = blocks;
  correlation.series = {series("input", r, g_in), series("reconstruction", r, g_rec), series("prior samples", r, g_sample)};

  std::string kept_text, cca_text;
  const auto ratios = to_doubles(ratio), k = to_doubles(in.k), rho = to_doubles(cca);
  for (size_t i = 0; i < ratios.size() && i < 8; ++i)
    kept_text += "  " + report::fixed(k[i], 2) + ": " + report::fixed(ratios[i], 2);
  for (size_t i = 0; i < rho.size() && i < 6; ++i) cca_text += " " + report::fixed(rho[i], 3);
  c.table = "  fraction of power kept per shell |k|:" + kept_text +
            "\n  canonical correlations, E_q[z|x] vs the lowest Fourier modes:" + cca_text + "\n";
  c.section.heading = "Lattice field: Fourier shells and correlations";
  c.section.text = "Power per shell of |k| of " + std::to_string(n) + " test fields and of their reconstructions E[x | z = E_q[z|x]]" +
                   (spins ? " (spins s = 2x - 1)" : "") + ", and block-spin fields drawn at the wavelength they stand for; the "
                   "fraction kept per shell; the connected two-point function of inputs, reconstructions and prior samples; "
                   "the canonical correlations of the code with the lowest Fourier modes.";
  c.section.table = {{"fraction of power kept per shell |k|", kept_text},
                     {"canonical correlations (code vs lowest modes)", cca_text}};
  c.section.svgs = {report::render_svg_row({spectrum, kept, correlation})};
  return c;
}

}  // namespace elbo::run
