#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace elbo {

/// A fixed team of threads for the hand-written kernels. run(job) calls job(0) on
/// the caller and job(1), ..., job(size() - 1) on the helpers, and returns when all
/// have returned (rethrowing the first exception). Helpers spin for a moment after a
/// job, since in a training loop the next one follows within microseconds, then
/// sleep. Helpers take the caller's floating-point control word (flush-to-zero of
/// denormals), so every part computes alike. Runs from several threads take turns;
/// a job must not call run() of its own team.
class WorkerThreads {
 public:
  explicit WorkerThreads(int threads);
  ~WorkerThreads();
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  int size() const { return static_cast<int>(helpers_.size()) + 1; }
  void run(const std::function<void(int part)>& job);

 private:
  void helper_loop(int part);

  std::vector<std::thread> helpers_;
  const std::function<void(int)>* job_ = nullptr;
  uint32_t control_word_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> running_{0};
  std::atomic<bool> stop_{false};
  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::exception_ptr error_;
};

/// The process's team for the hand-written kernels (training step, Adam, evaluation):
/// one thread per BLAS thread (blas_threads(), at least 1), made at first use.
WorkerThreads& kernel_team();

/// [begin, end) of part `part` when `count` items are split into `parts` near-equal parts.
inline std::pair<int64_t, int64_t> part_range(int64_t count, int part, int parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

}  // namespace elbo
