#include "elbo/core/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace elbo {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, [&](const ByteSink& write) { write(bytes.data(), bytes.size()); });
}

void write_file_atomic(const std::string& path, const std::function<void(const ByteSink&)>& produce) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create", tmp, errno);
  const auto give_up = [&](const char* what, int err) {
    if (fd >= 0) ::close(fd);
    fd = -1;
    ::unlink(tmp.c_str());
    fail(what, path, err);
  };
  // A failed write is remembered and reported after `produce` returns: throwing through
  // a producer (e.g. LibTorch's zip writer, which writes again while unwinding) is unsafe.
  int write_error = 0;
  const ByteSink write = [&](const void* data, size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0 && write_error == 0) {
      const ssize_t n = ::write(fd, p, size);
      if (n < 0) {
        if (errno != EINTR) write_error = errno;
        continue;
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
  };
  try {
    produce(write);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (write_error != 0) give_up("cannot write", write_error);
  if (::fsync(fd) != 0) give_up("cannot flush", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) give_up("cannot close", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) give_up("cannot rename onto", errno);
}

int remove_stale_temporaries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 == name.size()) continue;
    const std::string pid = name.substr(at + 5);
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
    const bool dead = ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
    if (dead && ::unlink((dir + "/" + name).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace elbo
