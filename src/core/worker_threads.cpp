#include "elbo/core/worker_threads.h"

#include "elbo/core/blas_threads.h"
#include "elbo/core/check.h"

#include <algorithm>
#include <chrono>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define ELBO_HAVE_MXCSR 1
#endif

namespace elbo {
namespace {

uint32_t control_word() {
#if defined(ELBO_HAVE_MXCSR)
  return _mm_getcsr();
#else
  return 0;
#endif
}

void set_control_word(uint32_t word) {
#if defined(ELBO_HAVE_MXCSR)
  if (_mm_getcsr() != word) _mm_setcsr(word);
#else
  (void)word;
#endif
}

/// How long an idle helper (or the caller waiting for helpers) polls before sleeping.
constexpr auto kSpin = std::chrono::microseconds(200);

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

WorkerThreads::WorkerThreads(int threads) {
  ELBO_CHECK(threads >= 1, "elbo::WorkerThreads: need at least 1 thread (got ", threads, ")");
  for (int part = 1; part < threads; ++part) helpers_.emplace_back([this, part] { helper_loop(part); });
}

WorkerThreads::~WorkerThreads() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
}

void WorkerThreads::run(const std::function<void(int)>& job) {
  if (helpers_.empty()) return job(0);
  std::lock_guard<std::mutex> one_run(run_mutex_);
  job_ = &job;
  control_word_ = control_word();
  error_ = nullptr;
  running_.store(static_cast<int>(helpers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);  // a helper between its check and its wait sees the change
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  std::exception_ptr mine;
  try {
    job(0);
  } catch (...) {
    mine = std::current_exception();
  }
  // The helpers' parts take about as long as the caller's: poll, yielding once it takes long.
  const auto start = std::chrono::steady_clock::now();
  for (int spins = 0; running_.load(std::memory_order_acquire) > 0; ++spins)
    if (spins < 4096 || std::chrono::steady_clock::now() - start < kSpin) pause();
    else std::this_thread::yield();
  job_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void WorkerThreads::helper_loop(int part) {
  uint64_t seen = 0;
  for (;;) {
    // Poll for the next job for a moment, then sleep until one is posted.
    const auto idle_since = std::chrono::steady_clock::now();
    for (int spins = 0; generation_.load(std::memory_order_acquire) == seen; ++spins) {
      if (spins < 4096 || (spins % 256 != 0) || std::chrono::steady_clock::now() - idle_since < kSpin) {
        pause();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    set_control_word(control_word_);
    try {
      (*job_)(part);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    running_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

WorkerThreads& kernel_team() {
  static WorkerThreads team(std::max(1, blas_threads()));
  return team;
}

}  // namespace elbo
