#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <vector>

namespace elbo {

/// The rows of a global batch that this process trains on (data-parallel
/// training): rows [offset, offset + rows) of a batch of global_rows examples.
struct BatchShard {
  int64_t offset = 0;
  int64_t rows = 0;
  int64_t global_rows = 0;
};

/// Makes `shard` the current thread's batch shard while alive (scopes nest).
/// The trainer opens one around each data-parallel step.
class BatchShardScope {
 public:
  explicit BatchShardScope(const BatchShard& shard);
  ~BatchShardScope();
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;

 private:
  BatchShard shard_;
  const BatchShard* previous_;
};

/// The current thread's batch shard, or nullptr outside any BatchShardScope.
const BatchShard* current_batch_shard();

/// Standard normal noise of `shape`, whose axis -2 is the batch (the
/// reparameterization noise of a [.., B, D] distribution). Inside a
/// BatchShardScope whose `rows` equals that axis it draws the noise of all
/// `global_rows` rows and returns this shard's rows, so every rank of a
/// data-parallel run uses exactly the noise one process would draw for the
/// global batch. Otherwise it is torch::randn(shape, options).
at::Tensor randn_batch(std::vector<int64_t> shape, const at::TensorOptions& options);

}  // namespace elbo
