#pragma once
#include <cstdint>

namespace elbo::train {

/// Data-parallel batches. With W ranks and B examples per rank, global batch b
/// of an epoch covers positions [b*W*B, min(n, (b+1)*W*B)) of that epoch's
/// permutation (the same on every rank), and rank r trains on an equal share
/// of it: [global_begin + ceil(r*G/W), global_begin + ceil((r+1)*G/W)) for G
/// examples in the global batch. Full batches give rank r positions
/// [r*B, (r+1)*B); a short last batch is spread evenly (rank 0 always gets
/// some, a rank > 0 may get none).
struct Shard {
  int64_t global_begin = 0, global_end = 0;  ///< the global batch
  int64_t begin = 0, end = 0;                ///< this rank's part of it
  int64_t rows() const { return end - begin; }
  int64_t global_rows() const { return global_end - global_begin; }
};

/// Global batches per epoch: ceil(n / (world_size * batch_size)).
int64_t global_batches(int64_t n, int64_t batch_size, int world_size);

/// Rank `rank`'s share of global batch `batch` (0-based) of an epoch of n examples.
Shard shard_of(int64_t n, int64_t batch_size, int world_size, int rank, int64_t batch);

}  // namespace elbo::train
