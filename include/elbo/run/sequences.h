#pragma once
// A sequence run (data.format = "fasta") against honest baselines: Markov chains fitted on the
// training windows, and the k-mer spectra and GC content of the model's samples.
#include "elbo/core/json.h"
#include "elbo/report/html.h"
#include "elbo/run/run_directory.h"

#include <cstdint>
#include <string>

namespace elbo::run {

struct SequenceOptions {
  int64_t max_order = 5;  ///< Markov chains of orders 0..max_order
  int64_t n = 2000;       ///< windows drawn from the model and from the best chain, and shuffled held-out windows
  int64_t max_k = 6;      ///< k-mer spectra for k = 1..max_k
  uint64_t seed = 1;      ///< of the model's and the chain's draws and of the shuffle
  std::string out;        ///< directory of sequences.json, kmer_jsd.svg and gc.svg ("" = the run directory)
};

/// The checks as JSON (sequences.json: every number), a table for the terminal and a report section.
struct SequenceChecks {
  Json json;
  std::string table;
  report::Section section;
};

/// On the run's own splits (load_data of its config): Markov chains of orders 0..max_order (diag::MarkovChain,
/// alpha = 1/2) fitted on the training windows, and their bits per base on the test windows elbo evaluate scores
/// (the first eval.n held-out windows), beside the model's IWAE bound from RUN/evaluation.json when it scored those
/// same windows; then n windows drawn from the model (z ~ p(z), x ~ p(x | z)), n from the chain with the lowest
/// test bits per base and n held-out windows each shuffled within itself, each compared with all held-out windows:
/// Jensen-Shannon divergence of the k-mer spectra for k = 1..max_k (kmer_jsd.svg) and GC content per window
/// (gc.svg). Writes sequences.json and the pictures to `out`. Refuses a run whose data are not sequences
/// (data.format other than "fasta", or no alphabet).
SequenceChecks check_sequences(const LoadedRun& run, const SequenceOptions& options = {});

}  // namespace elbo::run
