#include "elbo/run/sequence_scores.h"

#include "elbo/core/check.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/mutation_effects.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace elbo::run {

SequenceScores score_sequences(model::Model& model, const std::vector<data::FastaRecord>& records, int64_t window,
                               const ScoreOptions& o) {
  ELBO_CHECK(window == model.features(), "elbo score: the model reads windows of ", model.features(),
             " bases, not ", window);
  const double bits = std::log(2.0);
  SequenceScores out;
  for (const data::FastaRecord& record : records) {
    ELBO_CHECK(static_cast<int64_t>(record.sequence.size()) >= window, "elbo score: record '", record.name, "' (line ",
               record.line, ") has ", record.sequence.size(), " bases, fewer than the model's window of ", window);
    data::WindowOptions w;
    w.window = w.stride = window;
    const data::Dataset windows = data::sequence_windows({record}, w, record.name);
    diag::EvidenceOptions e;
    e.k = o.k;
    e.seed = o.seed;
    const diag::Evidence ev = diag::estimate_evidence(model, windows, e);
    SequenceScore s;
    s.name = record.name;
    s.windows = windows.size();
    s.bases = windows.mask.defined() ? static_cast<int64_t>(windows.mask.sum().item<double>()) : windows.x.numel();
    ELBO_CHECK(s.bases > 0, "elbo score: record '", record.name, "' has no known base in its windows");
    const double n = static_cast<double>(s.bases) * bits;
    s.elbo_bits = -ev.elbo.sum().item<double>() / n;
    s.iwae_bits = -ev.log_px.sum().item<double>() / n;
    s.iwae_se_bits = std::sqrt(ev.log_px_mc_se.pow(2).sum().item<double>()) / n;
    out.records.push_back(s);
    if (!o.mutations) continue;
    for (int64_t i = 0; i < windows.size(); ++i) {
      MutationMap m;
      m.record = record.name;
      m.start = i * window;
      m.window = windows.x[i];
      if (windows.mask.defined()) m.mask = windows.mask[i];
      m.delta = diag::mutation_effects(model, m.window, m.mask, 4, o.mutation_particles, o.seed);
      out.maps.push_back(std::move(m));
    }
  }
  return out;
}

SequenceScores score_sequences(const LoadedRun& run, const std::vector<data::FastaRecord>& records,
                               const ScoreOptions& options) {
  ELBO_CHECK(run.data_format() == "fasta", "the run '", run.dir, "' was not trained on FASTA sequences (data.format = \"",
             run.data_format(), "\")");
  return score_sequences(*run.model, records, run.config.get_int("data.window"), options);
}

std::string scores_csv(const SequenceScores& scores) {
  std::ostringstream csv;
  csv << std::setprecision(6) << "record,windows,bases,elbo_bits_per_base,iwae_bits_per_base,iwae_se\n";
  for (const auto& s : scores.records)
    csv << s.name << "," << s.windows << "," << s.bases << "," << s.elbo_bits << "," << s.iwae_bits << ","
        << s.iwae_se_bits << "\n";
  return csv.str();
}

std::string mutations_csv(const SequenceScores& scores) {
  std::ostringstream csv;
  csv << std::setprecision(6) << "record,start,position,reference,A,C,G,T\n";
  for (const auto& m : scores.maps) {
    const auto delta = m.delta.to(torch::kDouble).contiguous();
    for (int64_t i = 0; i < delta.size(0); ++i) {
      const bool known = !m.mask.defined() || m.mask[i].item<double>() > 0;
      csv << m.record << "," << m.start + 1 << "," << m.start + i + 1 << ","
          << (known ? data::kDnaAlphabet[m.window[i].item<int64_t>()] : 'N');
      for (int64_t c = 0; c < delta.size(1); ++c) csv << "," << delta[i][c].item<double>();
      csv << "\n";
    }
  }
  return csv.str();
}

}  // namespace elbo::run
