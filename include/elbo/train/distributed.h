#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <utility>

namespace elbo {
class Config;
}

namespace elbo::train {

/// Where the ranks of a data-parallel run meet and how long they wait for each other.
struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  ///< rank 0's host, which serves the rendezvous store
  int master_port = 29500;
  /// Non-empty: rendezvous through this file instead (c10d's FileStore; nothing listens on the
  /// network, and Gloo binds to 127.0.0.1 unless GLOO_SOCKET_IFNAME names an interface). Every
  /// rank must see the file, and no earlier run may have used it.
  std::string store_file;
  double timeout_s = 120;  ///< the longest any rendezvous step or collective waits before failing
};

/// Splits "ADDR:PORT" (also "[IPv6]:PORT"); anything else, or a port outside
/// 1..65535, throws std::invalid_argument naming the text.
std::pair<std::string, int> parse_master(const std::string& text);

/// Refuses (std::invalid_argument) configs that data-parallel training cannot
/// run exactly as one process with the global batch: objectives whose loss is
/// not a mean of per-example terms (beta-TCVAE's minibatch estimator, free
/// bits' batch-mean floor) or that carry state from step to step (GECO).
void check_data_parallel(const Config& config);

/// train.dist_timeout: the seconds any rendezvous step or collective of a data-parallel run waits.
double rendezvous_timeout(const Config& config);

/// One process of a data-parallel group, on LibTorch's c10d: a TCPStore
/// served by rank 0 (or a FileStore) for the rendezvous and small messages, then a Gloo
/// process group (NCCL for CUDA tensors where LibTorch has it). Every wait is
/// bounded by the timeout: a rank that exits, hangs or never shows up makes the
/// others throw std::runtime_error naming the operation and the timeout.
class Distributed {
 public:
  /// Joins the rendezvous at options.master_*: returns once all world_size ranks have joined.
  static std::shared_ptr<Distributed> connect(const DistributedOptions& options);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const;
  int world_size() const;
  double timeout_s() const;

  /// Publishes `value` under `key` in the store; get() waits for a key (up to the timeout).
  void set(const std::string& key, const std::string& value);
  std::string get(const std::string& key);

  /// Creates the process group for tensors on `device`, waiting up to timeout_s
  /// per collective. Every rank calls it once, before the collectives below.
  void start_group(const c10::Device& device, double timeout_s);

  /// Sums `tensor` over all ranks, in place. `what` names it in errors ("the gradients of step 3").
  void all_reduce_sum(at::Tensor& tensor, const std::string& what);
  /// Overwrites `tensor` with rank 0's.
  void broadcast(at::Tensor& tensor, const std::string& what);

 private:
  struct Impl;
  explicit Distributed(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace elbo::train
