#include "elbo/run/sequences.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/diag/kmer_spectrum.h"
#include "elbo/diag/markov_chain.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/summaries.h"

#include <unistd.h>

#include <chrono>
#include <cmath>

namespace elbo::run {
namespace {

using report::fixed;
using torch::Tensor;

std::string sequence_row(const std::string& key, const std::string& value) { return table_row(key, value, 44); }

}  // namespace

SequenceChecks check_sequences(const LoadedRun& run, const SequenceOptions& o) {
  constexpr const char* fn = "elbo sequences";
  const std::string& format = run.data_format();
  ELBO_CHECK(format == "fasta", fn, ": the run '", run.dir, "' was trained on data.format = \"", format,
             "\"; these checks need sequence windows (data.format = \"fasta\")");
  ELBO_CHECK(o.max_order >= 0 && o.max_order <= 10, fn, ": --orders must be in 0..10 (got ", o.max_order, ")");
  ELBO_CHECK(o.n >= 1, fn, ": --n must be >= 1 (got ", o.n, ")");
  ELBO_CHECK(o.max_k >= 1 && o.max_k <= 10, fn, ": max_k must be in 1..10 (got ", o.max_k, ")");
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  torch::NoGradGuard no_grad;
  const std::string out = o.out.empty() ? run.dir : o.out;
  ensure_writable_dir(out);

  data::Splits splits = data::load_data(run.config);
  const data::Dataset& train = splits.train;
  const data::Dataset& held_out = splits.test;
  ELBO_CHECK(!train.alphabet.empty() && !held_out.alphabet.empty() && train.size() > 0 && held_out.size() > 0, fn,
             ": the data of run '", run.dir, "' are not sequence windows over an alphabet (or a split is empty)");
  data::Dataset test = held_out;  // the windows elbo evaluate scores: the first eval.n
  const int64_t eval_n = run.config.get_int("eval.n");
  if (eval_n > 0 && eval_n < test.size()) test = test.subset(torch::arange(eval_n, torch::kLong));
  const std::string& alphabet = test.alphabet;
  const int64_t classes = static_cast<int64_t>(alphabet.size()), length = test.features();
  const auto known_bases = [](const data::Dataset& d) {
    return d.mask.defined() ? (d.mask != 0).sum().item<double>() : static_cast<double>(d.x.numel());
  };

  // Markov chains of orders 0..K on the training windows, scored on the test windows.
  const double load_seconds = seconds();
  const diag::MarkovChain chain = diag::MarkovChain::fit(train.x, train.mask, o.max_order, classes);
  const double fit_seconds = seconds() - load_seconds;
  std::vector<double> bits;
  int64_t best = 0;
  for (int64_t j = 0; j <= o.max_order; ++j) {
    bits.push_back(diag::bits_per_base(chain.truncated(j), test.x, test.mask));
    if (bits[j] < bits[best]) best = j;
  }
  const double score_seconds = seconds() - fit_seconds - load_seconds;

  // The model's IWAE bound per base, when evaluation.json scored these same windows.
  double vae_bits = NAN;
  const std::string evaluation = run.dir + "/evaluation.json";
  if (::access(evaluation.c_str(), R_OK) == 0) {
    const Json e = Json::parse(read_file(evaluation), nullptr, false);
    if (!e.is_discarded() && json_number(e, "examples") == static_cast<double>(test.size()) && e.contains("bits_per_base"))
      vae_bits = json_number(e["bits_per_base"], "iwae");
  }

  // n windows from the model, from the best chain, and shuffled held-out windows.
  const int64_t n = o.n;
  seed_stream(o.seed, RngStream::evaluation);
  const Tensor vae = run.model->likelihood(run.model->sample_prior(n))->sample().cpu();
  ELBO_CHECK(vae.dim() == 2 && vae.size(0) == n && vae.size(1) == length, fn, ": the model's p(x | z) draws ",
             vae.sizes(), "; expected class indices [", n, ", ", length, "] (a categorical likelihood)");
  const Tensor markov = chain.truncated(best).sample(n, length, mix_seed(o.seed, RngStream::evaluation, 1));
  const data::Dataset held = held_out.subset(torch::arange(std::min(n, held_out.size()), torch::kLong));
  const Tensor shuffled = diag::shuffle_within(held.x, held.mask, mix_seed(o.seed, RngStream::evaluation, 2));

  // Each source's k-mer spectra and GC content against those of all held-out windows.
  const std::vector<Tensor> reference = diag::kmer_spectra(held_out.x, held_out.mask, o.max_k, classes);
  struct Source {
    std::string key, label;
    Tensor x, mask;
  };
  const std::vector<Source> sources = {
      {"vae_samples", "VAE samples", vae, {}},
      {"markov_samples", "Markov order " + std::to_string(best) + " samples", markov, {}},
      {"shuffled_held_out", "shuffled held-out windows", shuffled, held.mask}};
  const bool dna = alphabet == "ACGT";
  const Tensor held_gc = dna ? diag::gc_content(held_out.x, held_out.mask) : Tensor();
  const MeanSd held_stats = dna ? mean_sd(held_gc) : MeanSd{};

  SequenceChecks c;
  Json markov_json = Json::array();
  for (int64_t j = 0; j <= o.max_order; ++j) markov_json.push_back({{"order", j}, {"test_bits_per_base", bits[j]}});
  std::vector<double> ks;
  std::vector<int64_t> k_values;
  for (int64_t k = 1; k <= o.max_k; ++k) ks.push_back(static_cast<double>(k)), k_values.push_back(k);
  c.json = {{"alphabet", alphabet},
            {"window", length},
            {"train_windows", train.size()},
            {"train_bases", known_bases(train)},
            {"test_windows", test.size()},
            {"test_bases", known_bases(test)},
            {"pseudocount", chain.alpha()},
            {"markov_chains", markov_json},
            {"best_order", best},
            {"vae_iwae_bits_per_base", vae_bits},
            {"samples", n},
            {"seed", o.seed},
            {"k", k_values},
            {"held_out", {{"windows", held_out.size()}, {"gc_mean", held_stats.mean}, {"gc_sd", held_stats.sd}}}};

  report::LinePlot jsd_plot{"k-mer spectra against the held-out windows", "k",
                            "Jensen-Shannon divergence (bits)", {}};
  report::LinePlot gc_plot{"GC content per window", "fraction of G or C", "density", {}};
  std::vector<std::pair<std::string, Tensor>> gc_drawn = {{"held-out", held_gc}};  // held-out, VAE, Markov
  std::string jsd_rows, gc_rows;
  for (const Source& s : sources) {
    const std::vector<Tensor> spectra = diag::kmer_spectra(s.x, s.mask, o.max_k, classes);
    std::vector<double> jsd;
    std::string cells;
    for (int64_t k = 1; k <= o.max_k; ++k) {
      jsd.push_back(diag::jensen_shannon_bits(spectra[k - 1], reference[k - 1]));
      cells += (k > 1 ? "  " : "") + fixed(jsd.back(), 4);
    }
    Json entry = {{"label", s.label}, {"windows", s.x.size(0)}, {"kmer_jsd_bits", jsd}};
    jsd_rows += sequence_row("  " + s.label, cells);
    jsd_plot.series.push_back({s.label, ks, jsd, false, {}});
    if (dna) {
      const Tensor gc = diag::gc_content(s.x, s.mask);
      const MeanSd stats = mean_sd(gc);
      entry["gc_mean"] = stats.mean;
      entry["gc_sd"] = stats.sd;
      gc_rows += sequence_row("  " + s.label, fixed(stats.mean, 4) + " ± " + fixed(stats.sd, 4));
      if (s.key != "shuffled_held_out") gc_drawn.emplace_back(s.label, gc);
    }
    c.json[s.key] = entry;
  }
  if (dna) {  // 30 bins over the range of all GC contents drawn, widened to multiples of 0.05
    const Tensor all = torch::cat({gc_drawn[0].second, gc_drawn[1].second, gc_drawn[2].second});
    const Tensor finite = all.masked_select(torch::isfinite(all));
    const double lo = finite.numel() ? std::floor(finite.min().item<double>() * 20) / 20 : 0.0;
    const double hi = finite.numel() ? std::max(lo + 0.05, std::ceil(finite.max().item<double>() * 20) / 20) : 1.0;
    for (const auto& [label, gc] : gc_drawn) gc_plot.series.push_back(report::histogram_series(label, to_doubles(gc), lo, hi, 30));
  }
  c.json["seconds"] = {{"load_data", load_seconds}, {"markov_fit", fit_seconds}, {"markov_score", score_seconds}, {"total", seconds()}};

  // The table, the report section and the files.
  c.table = sequence_row("Markov chains on " + std::to_string(train.size()) + " training windows",
                "bits/base on " + std::to_string(test.size()) + " test windows");
  for (int64_t j = 0; j <= o.max_order; ++j)
    c.table += sequence_row("  order " + std::to_string(j) + (j == best ? " (best)" : ""), fixed(bits[j], 4));
  if (std::isfinite(vae_bits)) c.table += sequence_row("  VAE, IWAE bound (evaluation.json)", fixed(vae_bits, 4));
  std::string header;
  for (int64_t k = 1; k <= o.max_k; ++k) header += ("k=" + std::to_string(k) + "      ").substr(0, 8);
  c.table += sequence_row("k-mer JSD to " + std::to_string(held_out.size()) + " held-out windows (bits)", header) + jsd_rows;
  if (dna)
    c.table += sequence_row("GC content per window, mean ± sd", "") +
               sequence_row("  held-out", fixed(held_stats.mean, 4) + " ± " + fixed(held_stats.sd, 4)) + gc_rows;

  const report::Chart jsd_chart = report::line_chart(jsd_plot), gc_chart = report::line_chart(gc_plot);
  write_file_atomic(out + "/sequences.json", c.json.dump(2) + "\n");
  write_file_atomic(out + "/kmer_jsd.svg", jsd_chart.svg);
  if (dna) write_file_atomic(out + "/gc.svg", gc_chart.svg);
  c.section.heading = "Sequences against baselines";
  c.section.text =
      "Markov chains of orders 0.." + std::to_string(o.max_order) + " (pseudocount " + fixed(chain.alpha(), 2) +
      ") fitted on the training windows, scored per base on the " + std::to_string(test.size()) +
      " test windows the evaluation scores; a VAE that models sequence should beat the best of them. Then " +
      std::to_string(n) + " windows drawn from the model, from the best chain and shuffled held-out windows (their "
      "composition and nothing else) against all " + std::to_string(held_out.size()) + " held-out windows: "
      "Jensen-Shannon divergence of the k-mer spectra and GC content per window. Finite samples alone put a floor "
      "under the JSD of the high k; the order-" + std::to_string(best) + " chain reproduces the training windows' " +
      std::to_string(best + 1) + "-mer frequencies by construction, so its curve up to k = " + std::to_string(best + 1) +
      " shows about that floor.";
  for (int64_t j = 0; j <= o.max_order; ++j)
    c.section.table.push_back({"Markov order " + std::to_string(j) + ", test bits/base", fixed(bits[j], 4)});
  if (std::isfinite(vae_bits)) c.section.table.push_back({"VAE IWAE bound, bits/base", fixed(vae_bits, 4)});
  c.section.charts.push_back(jsd_chart);
  if (dna) c.section.charts.push_back(gc_chart);
  return c;
}

}  // namespace elbo::run
