// libFuzzer target: elbo::data::read_csv on arbitrary bytes. The first byte
// picks the options (delimiter, header mode, label column, skipped rows) so
// every code path is reached. std::invalid_argument is the expected refusal.
#include "elbo/data/csv.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("csv_fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  elbo::data::CsvOptions o;
  if (size > 0) {
    const uint8_t b = data[0];
    static const char delimiters[] = {',', ';', '\t', ' '};
    static const char* headers[] = {"auto", "yes", "no", "auto"};
    o.delimiter = delimiters[b & 3];
    o.header = headers[(b >> 2) & 3];
    if (b & 16) o.label_column = (b & 32) ? -1 : 0;
    o.skip_rows = (b >> 6) & 1;
    ++data;
    --size;
  }
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  try {
    elbo::data::Dataset d = elbo::data::read_csv(path, o);
    if (d.x.size(0) < 1 || d.x.dim() != 2) __builtin_trap();           // a data set has rows
    if (d.mask.defined() && d.mask.sizes() != d.x.sizes()) __builtin_trap();
    if (d.y.defined() && d.y.size(0) != d.x.size(0)) __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
