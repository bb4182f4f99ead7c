#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace elbo {

/// Writes `bytes` to `path` so that a reader never sees a partial file: the
/// data go to `path.tmp.<pid>`, are flushed to disk (fsync), and the temporary
/// file is renamed over `path`. On any failure (directory not writable, disk
/// full) the temporary file is removed, `path` keeps its old content, and
/// std::runtime_error names the path and the system error.
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Appends `size` bytes at `data` to the file being written.
using ByteSink = std::function<void(const void* data, size_t size)>;

/// As above for data produced in pieces: `produce` is called once with a sink
/// that appends to the temporary file, so the whole file is never held in
/// memory. The sink never throws: a failed write is reported (as above) once
/// `produce` returns. An exception from `produce` removes the temporary file and propagates.
void write_file_atomic(const std::string& path, const std::function<void(const ByteSink&)>& produce);

/// Removes the temporary files `NAME.tmp.<pid>` in `dir` that write_file_atomic
/// left behind when its process was killed mid-write (the pid no longer runs);
/// those of live processes are kept. Returns how many were removed.
int remove_stale_temporaries(const std::string& dir);

/// Reads a whole file; std::invalid_argument naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace elbo
