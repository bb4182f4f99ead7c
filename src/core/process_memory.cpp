#include "elbo/core/process_memory.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace elbo {
namespace {

/// The value of `key` (e.g. "MemAvailable:") in a "key value kB" file, in bytes; -1 if absent.
int64_t kib_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    int64_t kib = -1;
    return fields >> kib ? kib * 1024 : -1;
  }
  return -1;
}

/// A number alone in a file (cgroup files); -1 if absent or "max".
int64_t number_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return -1;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return -1;
  }
}

void take_least(AvailableMemory& a, int64_t bytes, const std::string& source) {
  if (bytes < 0) return;
  if (a.bytes < 0 || bytes < a.bytes) a = {bytes, source};
}

}  // namespace

AvailableMemory available_memory() {
  AvailableMemory a;
  take_least(a, kib_field("/proc/meminfo", "MemAvailable:"), "MemAvailable in /proc/meminfo");
  // cgroup v2, then v1 (a v1 "no limit" reads as a huge number, above MemAvailable).
  const int64_t v2_limit = number_file("/sys/fs/cgroup/memory.max");
  if (v2_limit >= 0)
    take_least(a, std::max<int64_t>(0, v2_limit - std::max<int64_t>(0, number_file("/sys/fs/cgroup/memory.current"))),
               "cgroup v2 limit (memory.max - memory.current)");
  const int64_t v1_limit = number_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (v1_limit >= 0)
    take_least(a,
               std::max<int64_t>(0, v1_limit - std::max<int64_t>(0, number_file("/sys/fs/cgroup/memory/memory.usage_in_bytes"))),
               "cgroup v1 limit (memory.limit_in_bytes - memory.usage_in_bytes)");
  struct rlimit as {};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const int64_t used = kib_field("/proc/self/status", "VmSize:");
    take_least(a, std::max<int64_t>(0, static_cast<int64_t>(as.rlim_cur) - std::max<int64_t>(0, used)),
               "address-space limit (ulimit -v) minus this process's VmSize");
  }
  return a;
}

int64_t resident_bytes() { return kib_field("/proc/self/status", "VmRSS:"); }

int64_t peak_resident_bytes() {
  const int64_t hwm = kib_field("/proc/self/status", "VmHWM:");
  if (hwm >= 0) return hwm;
  struct rusage u {};
  return ::getrusage(RUSAGE_SELF, &u) == 0 ? static_cast<int64_t>(u.ru_maxrss) * 1024 : -1;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return text;
}

}  // namespace elbo
