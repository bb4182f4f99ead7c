#include "elbo/core/batch_shard.h"

#include <ATen/Functions.h>

namespace elbo {
namespace {
thread_local const BatchShard* current = nullptr;
}

BatchShardScope::BatchShardScope(const BatchShard& shard) : shard_(shard), previous_(current) { current = &shard_; }

BatchShardScope::~BatchShardScope() { current = previous_; }

const BatchShard* current_batch_shard() { return current; }

at::Tensor randn_batch(std::vector<int64_t> shape, const at::TensorOptions& options) {
  const BatchShard* s = current;
  const size_t n = shape.size();
  if (s == nullptr || n < 2 || shape[n - 2] != s->rows || s->rows == s->global_rows)
    return at::randn(shape, options);
  shape[n - 2] = s->global_rows;
  return at::randn(shape, options).narrow(static_cast<int64_t>(n) - 2, s->offset, s->rows);
}

}  // namespace elbo
