#pragma once

namespace elbo {

/// The threads the BLAS spreads each call over, when it lets itself be told
/// (OpenBLAS: openblas_get/set_num_threads, found at run time); 0 for any other BLAS.
int blas_threads();

/// Sets the BLAS's threads (from now on); does nothing when threads is 0 or the BLAS cannot be told.
void set_blas_threads(int threads);

/// Sets the BLAS's threads to `threads` while alive, then back; does nothing when
/// threads is 0 or the BLAS cannot be told. The hand-written training step calls the
/// BLAS from several threads of its own at once, each for one part of the batch.
class BlasThreadsScope {
 public:
  explicit BlasThreadsScope(int threads);
  ~BlasThreadsScope();
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace elbo
