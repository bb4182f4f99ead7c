// elbo evaluate RUN [--k 1000] [--n N] [--json] [--gaps] [--mi]; MIG when the test data have known factors
#include "commands.h"
#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/data/load.h"
#include "elbo/diag/disentanglement.h"
#include "elbo/diag/gaps.h"
#include "elbo/diag/information.h"
#include "elbo/report/plot.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

std::string fixed(double v, int precision = 3) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(precision) << v;
  return o.str();
}

std::string row(const std::string& key, const std::string& value) {
  std::ostringstream o;
  o << "  " << std::left << std::setw(34) << key << value << "\n";
  return o.str();
}

std::string gaps_table(const diag::Gaps& g) {
  auto gap = [](const diag::Gap& x) { return fixed(x.mean) + " ± " + fixed(x.se) + " (MC ± " + fixed(x.mc_se) + ")"; };
  return row("ELBO, amortized q(z|x)", fixed(g.elbo_amortized_mean)) +
         row("ELBO*, refined q*(z|x)", fixed(g.elbo_refined_mean) + " (" + std::to_string(g.refined.steps) +
                                          " steps" + (g.refined.converged ? "" : ", not converged") + ")") +
         row("log p(x), IWAE with q or q*", fixed(g.log_px_mean)) +
         row("approximation gap log p - ELBO*", gap(g.approximation)) +
         row("amortization gap  ELBO* - ELBO", gap(g.amortization)) +
         row("total gap  log p(x) - ELBO", gap(g.total)) +
         row("Pinsker bound TV, amortized q", fixed(g.pinsker_amortized, 4)) +
         row("Pinsker bound TV, refined q*", fixed(g.pinsker_refined, 4));
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
  s.svgs = {report::render_bar_svg("Inference gaps", {g.approximation.mean, g.amortization.mean, g.total.mean},
                                   "0 approximation, 1 amortization, 2 total", "nats")};
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
  return row("mutual information I(x;z)",
             fixed(i.mutual_information) + " ± " + fixed(i.mutual_information_se) + " (<= log N = " + fixed(i.log_n) + ")") +
         row("rate E KL(q(z|x) || p(z))", fixed(i.rate) + " ± " + fixed(i.rate_se)) +
         row("distortion -E log p(x|z)", fixed(i.distortion) + " ± " + fixed(i.distortion_se)) +
         row("KL(q(z) || p(z)) = rate - I", fixed(i.marginal_kl));
}

std::string mig_factor(const diag::Mig& m, size_t k) {
  return fixed(m.gaps[k]) + " (best dimension " + std::to_string(m.best_dims[k]) + ", H = " + fixed(m.entropies[k]) +
         " nats)";
}

std::string mig_table(const diag::Mig& m) {
  std::string out = row("MIG (" + std::to_string(m.bins) + " bins)", fixed(m.mig));
  for (size_t k = 0; k < m.gaps.size(); ++k) out += row("  gap of factor " + m.factor_names[k], mig_factor(m, k));
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
  s.svgs = {report::render_bar_svg("Normalized gap per factor", m.gaps, axis, "gap / H(v)")};
  return s;
}

}  // namespace

Action add_evaluate(CLI::App& app) {
  struct Args {
    std::string run;
    int64_t k = -1, n = -1, batch = 100;
    bool json = false, gaps = false, mi = false;
    int64_t refine_steps = 1000;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory written by elbo train")->required();
  app.add_option("--k", args->k, "importance samples K (default: eval.k of the run, 1000)")->check(CLI::PositiveNumber);
  app.add_option("--n", args->n, "test examples to evaluate (0 = all; default: eval.n of the run)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", args->batch, "examples per pass")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--json", args->json, "print JSON instead of a table");
  app.add_flag("--gaps", args->gaps,
               "also optimize q* per example and report the approximation, amortization and total gaps "
               "(Cremer et al. 2018) with standard errors and Pinsker bounds");
  app.add_flag("--mi", args->mi, "also report the mutual information I(x;z), rate, distortion and KL(q(z) || p(z))");
  app.add_option("--refine-steps", args->refine_steps, "most Adam steps of the per-example optimization (--gaps)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    diag::EvidenceOptions eo;
    eo.k = args->k > 0 ? args->k : run.config.get_int("eval.k");
    eo.batch_size = args->batch;
    eo.seed = static_cast<uint64_t>(run.config.get_int("train.seed"));
    const int64_t n = args->n >= 0 ? args->n : run.config.get_int("eval.n");
    data::Dataset test = data::load_test_data(run.config);
    if (n > 0 && n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
    if (!args->json)
      eo.progress = [](int64_t done, int64_t total) {
        std::fprintf(stderr, "\r  evaluating %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
        if (done == total) std::fprintf(stderr, "\n");
      };
    const diag::Evidence evidence = diag::estimate_evidence(*run.model, test, eo);
    const diag::Summary summary = diag::summarize(evidence);
    std::string json = diag::to_json(summary);
    std::string table = summary_table(summary);
    warn_if_collapsed(summary);
    std::vector<report::Section> extra;
    if (args->gaps) {
      diag::GapOptions go;
      go.evidence = eo;
      go.evidence.progress = nullptr;
      go.elbo_particles = std::max<int64_t>(2, eo.k);
      go.refine.max_steps = args->refine_steps;
      go.refine.batch_size = args->batch;
      go.refine.seed = eo.seed;
      if (!args->json) std::fprintf(stderr, "  optimizing q* for %lld examples\n", static_cast<long long>(test.size()));
      const diag::Gaps gaps = diag::estimate_gaps(*run.model, test, go, &evidence);
      json.insert(json.size() - 1, ", \"gaps\": " + diag::to_json(gaps));
      table += gaps_table(gaps);
      extra.push_back(gaps_section(gaps));
    }
    if (args->mi) {
      diag::InformationOptions io;
      io.batch_size = args->batch;
      io.seed = eo.seed;
      const diag::Information info = diag::estimate_information(*run.model, test, io);
      json.insert(json.size() - 1, ", \"information\": " + diag::to_json(info));
      table += information_table(info);
      extra.push_back(information_section(info));
    }
    evaluate_extras(*run.model, test, run.config, run.dir, eo.k, args->batch, json, table, extra);
    if (test.factors.defined() && test.size() >= 2) {  // data with known factors (dsprites): disentanglement
      diag::MigOptions mo;
      mo.batch_size = args->batch;
      const diag::Mig mig = diag::estimate_mig(*run.model, test, mo);
      json.insert(json.size() - 1, ", \"disentanglement\": " + diag::to_json(mig));
      table += mig_table(mig);
      extra.push_back(mig_section(mig));
    }
    write_file_atomic(run.dir + "/evaluation.json", json + "\n");
    // The report gains the gap and information sections (the rest is rebuilt as train wrote it).
    if (!extra.empty()) write_report(run.dir, *run.model, test, run.config, summary, extra);
    if (args->json) std::cout << json << "\n";
    else std::cout << "elbo evaluate " << run.dir << "\n" << table;
    return 0;
  };
}

}  // namespace elbo::cli
