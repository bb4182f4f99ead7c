#include "elbo/run/evaluation.h"

#include "elbo/core/atomic_file.h"
#include "elbo/data/load.h"
#include "elbo/diag/classification.h"
#include "elbo/diag/cross_modal.h"
#include "elbo/diag/disentanglement.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/gaps.h"
#include "elbo/diag/imputation.h"
#include "elbo/diag/information.h"
#include "elbo/run/lattice_checks.h"
#include "elbo/run/multimodal.h"
#include "elbo/run/pictures.h"
#include "elbo/run/report.h"
#include "elbo/run/summaries.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::run {

Evaluation evaluate(model::Model& model, const data::Dataset& test, const Config& config, const std::string& dir,
                    const EvaluationOptions& o) {
  const uint64_t seed = static_cast<uint64_t>(config.get_int("train.seed"));
  diag::EvidenceOptions eo;
  eo.k = o.k > 0 ? o.k : config.get_int("eval.k");
  eo.batch_size = o.batch_size;
  eo.seed = seed;
  if (o.progress) {
    std::fprintf(stderr, "elbo: evaluating %lld test examples with K=%lld importance samples\n",
                 static_cast<long long>(test.size()), static_cast<long long>(eo.k));
    eo.progress = [](int64_t done, int64_t total) {
      std::fprintf(stderr, "\r  evaluating %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  const diag::Evidence evidence = diag::estimate_evidence(model, test, eo);
  Evaluation e;
  e.summary = diag::summarize(evidence);
  e.json = diag::to_json(e.summary);
  e.table = summary_table(e.summary);
  if (!test.alphabet.empty()) {  // sequences: the bounds per known base, in bits
    const double bases = test.mask.defined() ? test.mask.sum().item<double>() : static_cast<double>(test.x.numel());
    const double per_base = static_cast<double>(test.size()) / (bases * std::log(2.0));
    const double elbo = -e.summary.elbo * per_base, iwae = -e.summary.log_px * per_base, se = e.summary.log_px_se * per_base;
    e.json["bits_per_base"] = {{"elbo", elbo}, {"iwae", iwae}, {"iwae_se", se}};
    e.table += bits_per_base_table(elbo, iwae, se, eo.k);
  }
  if (o.gaps) {
    diag::GapOptions go;
    go.evidence = eo;
    go.evidence.progress = nullptr;
    go.elbo_particles = std::max<int64_t>(2, eo.k);
    go.refine.max_steps = o.refine_steps;
    go.refine.batch_size = o.batch_size;
    go.refine.seed = seed;
    if (o.progress) std::fprintf(stderr, "  optimizing q* for %lld examples\n", static_cast<long long>(test.size()));
    const diag::Gaps gaps = diag::estimate_gaps(model, test, go, &evidence);
    e.json["gaps"] = diag::to_json(gaps);
    e.table += gaps_table(gaps);
    e.sections.push_back(gaps_section(gaps));
  }
  if (o.information) {
    diag::InformationOptions io;
    io.batch_size = o.batch_size;
    io.seed = seed;
    const diag::Information info = diag::estimate_information(model, test, io);
    e.json["information"] = diag::to_json(info);
    e.table += information_table(info);
    e.sections.push_back(information_section(info));
  }
  if (model.has_classifier() && test.y.defined()) {
    const diag::Classification c = diag::evaluate_classifier(model, test, o.batch_size);
    e.json["classification"] = diag::to_json(c);
    e.table += classification_table(c);
    e.sections.push_back(classification_section(c));
  }
  if (test.hidden.defined() && model.latent_dim() > 0 && test.hidden.sum().item<double>() > 0) {
    diag::ImputationOptions io;
    io.particles = eo.k;
    io.draws = config.get_int("eval.impute_draws");
    io.seed = seed;
    if (o.progress)
      std::fprintf(stderr, "elbo: imputing the hidden entries of %lld test examples (K=%lld, %lld draws)\n",
                   static_cast<long long>(test.size()), static_cast<long long>(io.particles),
                   static_cast<long long>(io.draws));
    const diag::ImputationScores scores = diag::score_imputation(model, test, io);
    std::string picture;
    if (test.image.is_image()) {
      const ImputationPicture p = imputation_picture(model, test, 8, io.particles, io.seed);
      picture = dir + "/imputations.png";
      write_examples(picture, p.images, test.image, p.columns);
    }
    e.json["imputation"] = diag::to_json(scores);
    e.table += imputation_table(scores);
    e.sections.push_back(imputation_section(scores, picture));
  }
  if (test.modalities.size() >= 2) {
    if (o.progress)
      std::fprintf(stderr, "elbo: scoring each modality given the others on %lld test rows (K=%lld)\n",
                   static_cast<long long>(test.size()), static_cast<long long>(eo.k));
    const std::vector<diag::CrossModalScore> scores = diag::cross_modal_log_likelihood(model, test, eo.k, seed);
    e.json["modalities"] = diag::to_json(scores);
    std::ostringstream out;
    out << std::fixed << std::setprecision(3);
    for (const auto& c : scores)
      out << "  " << std::left << std::setw(34) << ("log p(" + c.modality + " | others)") << c.conditional
          << " nats/row vs log p(" << c.modality << ") " << c.marginal << " (" << c.rows << " rows)\n";
    e.table += out.str();
    e.sections.push_back(multimodal_section(model, test, scores, dir, eo.k));
  }
  if (config.get_string("data.format") == "lattice" && model.latent_dim() > 0) {  // which wavelengths the code keeps
    const LatticeChecks lattice = check_lattice(model, test, config, seed, &evidence);
    e.json["lattice"] = lattice.json;
    e.table += lattice.table;
    e.sections.push_back(lattice.section);
  }
  if (test.factors.defined() && test.size() >= 2) {  // data with known factors (dsprites): disentanglement
    diag::MigOptions mo;
    mo.batch_size = o.batch_size;
    const diag::Mig mig = diag::estimate_mig(model, test, mo);
    e.json["disentanglement"] = diag::to_json(mig);
    e.table += mig_table(mig);
    e.sections.push_back(mig_section(mig));
  }
  return e;
}

Evaluation evaluate_run(const LoadedRun& run, const EvaluationOptions& o) {
  data::Dataset test = data::load_test_data(run.config);
  const int64_t n = o.n >= 0 ? o.n : run.config.get_int("eval.n");
  if (n > 0 && n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
  Evaluation e = evaluate(*run.model, test, run.config, run.dir, o);
  write_file_atomic(run.dir + "/evaluation.json", e.json.dump(2) + "\n");
  if (const std::string warning = collapse_warning(e.summary); !warning.empty())
    std::cerr << "elbo: warning: " << warning << "\n";
  write_report(run.dir, *run.model, test, run.config, e.summary, e.sections,
               run.info.config_toml.empty() ? nullptr : &run.info);
  return e;
}

}  // namespace elbo::run
