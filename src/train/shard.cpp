#include "elbo/train/shard.h"

#include "elbo/core/check.h"

#include <algorithm>

namespace elbo::train {

int64_t global_batches(int64_t n, int64_t batch_size, int world_size) {
  ELBO_CHECK(n >= 0 && batch_size >= 1 && world_size >= 1, "elbo::train::global_batches: bad arguments n=", n,
             ", batch_size=", batch_size, ", world_size=", world_size);
  const int64_t global = batch_size * world_size;
  return (n + global - 1) / global;
}

Shard shard_of(int64_t n, int64_t batch_size, int world_size, int rank, int64_t batch) {
  ELBO_CHECK(rank >= 0 && rank < world_size, "elbo::train::shard_of: rank ", rank, " is outside [0, ", world_size, ")");
  ELBO_CHECK(batch >= 0 && batch < global_batches(n, batch_size, world_size), "elbo::train::shard_of: batch ", batch,
             " is outside [0, ", global_batches(n, batch_size, world_size), ")");
  Shard s;
  s.global_begin = batch * batch_size * world_size;
  s.global_end = std::min(n, s.global_begin + batch_size * world_size);
  const int64_t g = s.global_rows();
  // Rounded up, so rank 0 always has a share (it reports the step's objective extras).
  s.begin = s.global_begin + (g * rank + world_size - 1) / world_size;
  s.end = s.global_begin + (g * (rank + 1) + world_size - 1) / world_size;
  return s;
}

}  // namespace elbo::train
