#include "elbo/core/blas_threads.h"

#include <dlfcn.h>

namespace elbo {
namespace {

struct OpenBlas {
  int (*get)() = nullptr;
  void (*set)(int) = nullptr;
  OpenBlas() {
    get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!get || !set) get = nullptr, set = nullptr;
  }
};

const OpenBlas& openblas() {
  static const OpenBlas api;
  return api;
}

}  // namespace

int blas_threads() { return openblas().get ? openblas().get() : 0; }

void set_blas_threads(int threads) {
  if (threads > 0 && openblas().set && openblas().get() != threads) openblas().set(threads);
}

BlasThreadsScope::BlasThreadsScope(int threads) {
  if (threads <= 0 || !openblas().set) return;
  previous_ = openblas().get();
  if (previous_ != threads) openblas().set(threads);
  else previous_ = 0;
}

BlasThreadsScope::~BlasThreadsScope() {
  if (previous_ > 0) openblas().set(previous_);
}

}  // namespace elbo
