// libFuzzer target: elbo::data::read_idx on arbitrary bytes (plain or gzip).
// A malformed file must give std::invalid_argument; anything else (a crash,
// a sanitizer report, another exception) is a bug.
#include "elbo/data/idx.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

/// An in-memory file the reader opens by path (/proc/self/fd/N), rewritten per input.
struct MemFile {
  int fd = ::memfd_create("idx_fuzz", 0);
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MemFile file;
  file.write(data, size);
  try {
    torch::Tensor t = elbo::data::read_idx(file.path);
    if (t.numel() > 0) (void)t.sum();  // touch the payload
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
