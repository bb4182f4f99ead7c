#pragma once
// The bytes a run will hold at its peak, from the config and the data's schema, before any of it
// is allocated; and the refusal when that exceeds what the machine offers.
#include "elbo/core/config.h"
#include "elbo/core/json_fwd.h"
#include "elbo/core/process_memory.h"
#include "elbo/data/schema.h"

#include <string>
#include <vector>

namespace elbo::data {
struct Splits;
}  // namespace elbo::data

namespace elbo::run {

/// One term of a memory estimate, with the config keys (or data) that size it.
struct MemoryPart {
  std::string name;
  int64_t bytes = 0;
  std::string keys;
};

/// Estimated peak resident bytes of training: the process before the run (measured: LibTorch's
/// libraries and allocator, ~150 MB), the data set (measured while reading), the parameters P
/// counted from the config (float32), their gradients (P), Adam's two moments (2P), the
/// activations of one training batch, and transient copies (P: found by measurement, the peak
/// exceeds the other terms by about one parameter set when updating and writing checkpoints).
/// Activations per layer of width w over r rows (r = batch x particles x enumerated classes
/// where the family repeats rows): 3 r w floats for a hidden layer (pre-activation, activation,
/// gradient), 4 r w for the likelihood's layer (its element-wise terms too); convolutions count
/// their output maps the same way. Not counted: evaluation after training (its own batches), a
/// few tens of MB of thread buffers (OpenBLAS). Within 25% of the measured peak RSS of VAE,
/// hierarchical VAE and M2 runs: tests/run/memory_estimate_test.sh.
struct MemoryEstimate {
  int64_t parameters = 0;         ///< parameter count
  std::vector<MemoryPart> parts;  ///< "baseline" first
  int64_t total() const;
  /// The bytes still to be allocated: total() less the baseline already resident.
  int64_t increment() const;
  /// One line per part: name, bytes, keys.
  std::string table() const;
  Json json() const;
};

/// Parameters of the model model::make_model(config, schema) builds, counted from the config
/// alone (nothing allocated); checked against the built models in tests/run/memory_estimate_test.cpp.
int64_t parameter_count(const Config& config, const data::Schema& schema);

/// The training estimate (see MemoryEstimate) of `config` on data of `schema` whose tensors take
/// `data_bytes`, in a process holding `baseline_bytes` already (resident_bytes() before the data).
MemoryEstimate estimate_training_memory(const Config& config, const data::Schema& schema, int64_t data_bytes,
                                        int64_t baseline_bytes);

/// The parameters alone (loading a run directory to evaluate or sample from it).
MemoryEstimate estimate_model_memory(const Config& config, const data::Schema& schema);

/// Refuses (std::invalid_argument) when the estimate's increment exceeds `available`, with both
/// numbers, the largest parts and the keys that drive them; `who` starts the message
/// (e.g. "elbo train"). An unknown available amount (-1) passes.
void check_memory(const MemoryEstimate& estimate, const AvailableMemory& available, const std::string& who);

/// Bytes held by the tensors of the loaded splits (inputs, masks, labels, targets, hidden values, factors):
/// their storages, each once (a split or a data.max_train slice is a view of the file's tensor).
int64_t splits_bytes(const data::Splits& splits);

/// The data term of an estimate: the larger of splits_bytes and the growth of the resident set
/// since `resident_before` (measured before reading: the reader's buffers stay in the heap).
int64_t data_footprint(const data::Splits& splits, int64_t resident_before);

/// memory.json of a run directory: the estimate, the memory available when it was made, and the
/// measured peak resident set size of the training process (`peak_rss_bytes`).
void write_memory_record(const std::string& path, const MemoryEstimate& estimate, const AvailableMemory& available,
                         int64_t peak_rss_bytes);

}  // namespace elbo::run
