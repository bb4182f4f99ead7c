#pragma once
// What this process holds and what the machine still offers, read from /proc and the cgroup.
#include <cstdint>
#include <string>

namespace elbo {

/// Memory a new allocation may still take, and where that figure comes from.
struct AvailableMemory {
  int64_t bytes = -1;  ///< -1 = unknown (nothing readable)
  std::string source;  ///< e.g. "MemAvailable in /proc/meminfo" or "cgroup v2 memory.max - memory.current"
};

/// The least of: MemAvailable (/proc/meminfo); the cgroup's limit minus its usage (v2: memory.max and
/// memory.current, v1: memory.limit_in_bytes and memory.usage_in_bytes), when a limit is set; and
/// RLIMIT_AS minus this process's address space (VmSize), when `ulimit -v` is set.
AvailableMemory available_memory();

/// Resident set size of this process now (VmRSS in /proc/self/status), bytes; -1 if unreadable.
int64_t resident_bytes();

/// Peak resident set size of this process so far (VmHWM in /proc/self/status, else getrusage's
/// ru_maxrss), bytes.
int64_t peak_resident_bytes();

/// Bytes as text with a binary unit: "1.25 GiB", "512.0 MiB", "900 B".
std::string format_bytes(double bytes);

}  // namespace elbo
