#pragma once
// elbo score RUN --fasta FILE: per-sequence ELBO and importance-weighted log-likelihood in bits per
// base, and single-base substitution effect maps.
#include "elbo/data/fasta.h"
#include "elbo/model/model.h"
#include "elbo/run/run_directory.h"

#include <string>
#include <vector>

namespace elbo::run {

struct ScoreOptions {
  int64_t k = 1000;            ///< importance samples of the log-likelihood
  bool mutations = false;      ///< also the effect map of every window
  int64_t mutation_particles = 64;  ///< particles of each variant's ELBO (common random numbers)
  uint64_t seed = 1;
};

/// One record: cut into non-overlapping windows of the model's length (a shorter tail is not scored).
struct SequenceScore {
  std::string name;
  int64_t windows = 0;
  int64_t bases = 0;          ///< known bases scored (ambiguous codes are not scored)
  double elbo_bits = 0;       ///< -ELBO / (bases ln 2): an upper bound on bits per base
  double iwae_bits = 0;       ///< -log p̂(x) / (bases ln 2), the importance-weighted estimate (K = k)
  double iwae_se_bits = 0;    ///< its Monte Carlo standard error
};

/// The substitution effects of one window: delta [L, C] = ELBO(variant) - ELBO(window) in nats.
struct MutationMap {
  std::string record;
  int64_t start = 0;          ///< 0-based offset of the window in its record
  torch::Tensor window;       ///< [L] class indices
  torch::Tensor mask;         ///< [L] 1 = known base, or undefined (all known)
  torch::Tensor delta;        ///< [L, C]
};

struct SequenceScores {
  std::vector<SequenceScore> records;
  std::vector<MutationMap> maps;  ///< with ScoreOptions::mutations
};

/// Scores every record with the model of a run trained on windows of `window` bases.
SequenceScores score_sequences(model::Model& model, const std::vector<data::FastaRecord>& records, int64_t window,
                               const ScoreOptions& options);
/// The same with a run trained on FASTA windows (its data.window); a run of other data is refused.
SequenceScores score_sequences(const LoadedRun& run, const std::vector<data::FastaRecord>& records,
                               const ScoreOptions& options);

/// CSV: record,windows,bases,elbo_bits_per_base,iwae_bits_per_base,iwae_se.
std::string scores_csv(const SequenceScores& scores);
/// CSV: record,start,position,reference,A,C,G,T (1-based positions in the record; nats).
std::string mutations_csv(const SequenceScores& scores);

}  // namespace elbo::run
