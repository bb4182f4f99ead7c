// libFuzzer target: elbo::data::read_fasta on arbitrary bytes (plain or gzip), then the windows,
// their reverse complements and the split by record. The first byte picks the window (1..16),
// the stride (1..8) and whether ambiguous windows are dropped. std::invalid_argument is the
// expected refusal; the windows are checked against their definition.
#include "elbo/data/fasta.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("fasta_fuzz", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  elbo::data::WindowOptions o;
  o.window = 4, o.stride = 2;
  if (size > 0) {
    o.window = 1 + (data[0] & 15);
    o.stride = 1 + ((data[0] >> 4) & 7);
    o.drop_ambiguous = data[0] & 128;
    ++data;
    --size;
  }
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
  std::vector<elbo::data::FastaRecord> records;
  try {
    records = elbo::data::read_fasta(path);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  int64_t expected = 0;
  for (const auto& r : records) {
    if (r.name.empty() || r.sequence.empty() || r.line < 1) __builtin_trap();
    for (char c : r.sequence)
      if (std::string("ACGTNRYKMSWBDHV-").find(c) == std::string::npos) __builtin_trap();
    const auto length = static_cast<int64_t>(r.sequence.size());
    if (length >= o.window) expected += (length - o.window) / o.stride + 1;
  }
  try {
    const elbo::data::Dataset d = elbo::data::sequence_windows(records, o, path);
    if (d.x.dim() != 2 || d.x.size(1) != o.window || d.size() < 1) __builtin_trap();
    if (o.drop_ambiguous ? d.size() > expected : d.size() != expected) __builtin_trap();
    if (d.x.min().item<float>() < 0 || d.x.max().item<float>() > 3) __builtin_trap();
    if (d.mask.defined() && (o.drop_ambiguous || d.mask.sizes() != d.x.sizes())) __builtin_trap();
    const elbo::data::Dataset both = elbo::data::reverse_complements(d);
    if (both.size() != 2 * d.size() || both.mask.defined() != d.mask.defined()) __builtin_trap();
  } catch (const std::invalid_argument&) {
    if (expected > 0 && !o.drop_ambiguous) __builtin_trap();  // only a set without windows is refused
  }
  if (records.size() >= 2) {
    const auto split = elbo::data::split_records(records, 0.5, size);
    if (split.train.empty() || split.test.empty() || split.train.size() + split.test.size() != records.size())
      __builtin_trap();
  }
  return 0;
}
