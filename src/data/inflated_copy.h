#pragma once
// Uncompressed copies of large gzip data files, kept between runs (internal to idx.cpp).
#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace elbo::data {

/// Where the copies are kept: $ELBO_DATA_CACHE, else $XDG_CACHE_HOME/elbo, else
/// $HOME/.cache/elbo; "" when ELBO_DATA_CACHE=off or no directory can be named.
std::string data_cache_dir();

/// The copy of gzip file `gz_path` (with status `st`) in `dir`, named by a hash of its absolute
/// path, its size and its modification time (a changed file gets a new name); "" when the
/// absolute path cannot be formed.
std::string inflated_copy_path(const std::string& dir, const std::string& gz_path, const struct stat& st);

/// Maps `path` copy-on-write when it holds exactly `bytes` bytes whose CRC-32 is `crc`; null
/// otherwise (missing, short, stale or damaged: the caller inflates the source again).
/// Release with munmap(result, bytes).
void* map_inflated_copy(const std::string& path, uint64_t bytes, uint32_t crc);

/// Writes `bytes` at `data` to `path` through a temporary file and a rename, so a reader sees
/// the whole copy or none, then removes the copies of the source's earlier versions; best
/// effort (no error when the directory cannot be written).
void store_inflated_copy(const std::string& path, const void* data, uint64_t bytes);

}  // namespace elbo::data
