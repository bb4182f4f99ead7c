#include "inflated_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#if defined(ELBO_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

namespace elbo::data {
namespace {

/// CRC-32 (the gzip polynomial) of `bytes` bytes at `data`.
uint32_t crc32_of(const void* data, uint64_t bytes) {
#if defined(ELBO_HAVE_LIBDEFLATE)
  return libdeflate_crc32(0, data, bytes);
#else
  return static_cast<uint32_t>(crc32_z(0, static_cast<const Bytef*>(data), bytes));
#endif
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string data_cache_dir() {
  const std::string own = env("ELBO_DATA_CACHE");
  if (own == "off") return "";
  if (!own.empty()) return own;
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return xdg + "/elbo";
  if (const std::string home = env("HOME"); !home.empty()) return home + "/.cache/elbo";
  return "";
}

std::string inflated_copy_path(const std::string& dir, const std::string& gz_path, const struct stat& st) {
  std::error_code error;
  const std::string absolute = std::filesystem::absolute(gz_path, error).string();
  if (error) return "";
  char name[96];
  std::snprintf(name, sizeof name, "%016zx-%llx-%llx.%09ld.idx", std::hash<std::string>{}(absolute),
                static_cast<unsigned long long>(st.st_size), static_cast<unsigned long long>(st.st_mtim.tv_sec),
                static_cast<long>(st.st_mtim.tv_nsec));
  return dir + "/" + name;
}

void* map_inflated_copy(const std::string& path, uint64_t bytes, uint32_t crc) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st{};
  void* data = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == bytes && bytes > 0)
    data = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) return nullptr;
#if defined(MADV_POPULATE_READ)
  ::madvise(data, bytes, MADV_POPULATE_READ);  // the page cache's pages, mapped in one call (no copies)
#endif
  if (crc32_of(data, bytes) != crc) {
    ::munmap(data, bytes);
    return nullptr;
  }
  return data;
}

void store_inflated_copy(const std::string& path, const void* data, uint64_t bytes) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  if (error) return;
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const auto* p = static_cast<const char*>(data);
  uint64_t done = 0;
  while (done < bytes) {
    const ssize_t wrote = ::write(fd, p + done, std::min<uint64_t>(bytes - done, 1u << 30));
    if (wrote <= 0) break;
    done += static_cast<uint64_t>(wrote);
  }
  // No fsync: a copy cut short by a crash fails the size or CRC check and is written again.
  if (::close(fd) != 0 || done != bytes || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return;
  }
  // Copies of earlier versions of the same source (same path hash, older size or time) go.
  const std::filesystem::path written(path);
  const std::string name = written.filename().string(), source = name.substr(0, name.find('-') + 1);
  std::filesystem::directory_iterator entry(written.parent_path(), error), end;
  for (; !error && entry != end; entry.increment(error)) {
    const std::string other = entry->path().filename().string();
    std::error_code ignored;
    if (other != name && other.rfind(source, 0) == 0 && entry->path().extension() == ".idx")
      std::filesystem::remove(entry->path(), ignored);
  }
}

}  // namespace elbo::data
