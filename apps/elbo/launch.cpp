// elbo train --nproc N: the local launcher of data-parallel ranks.
#include "commands.h"

#include "elbo/core/check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace elbo::cli {
namespace {

volatile std::sig_atomic_t pending_signal = 0;

extern "C" void remember_signal(int sig) { pending_signal = sig; }

/// A TCP port on 127.0.0.1 that was free a moment ago (rank 0 binds it next).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("elbo train --nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(std::string("elbo train --nproc: cannot find a free port: ") + std::strerror(error));
  return ntohs(addr.sin_port);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return detail::concat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return detail::concat("was killed by signal ", WTERMSIG(status), " (", ::strsignal(WTERMSIG(status)), ")");
  return detail::concat("stopped (wait status ", status, ")");
}

}  // namespace

int launch_ranks(int nproc, const std::vector<std::string>& args, double timeout_s) {
  ELBO_CHECK(nproc >= 1, "--nproc must be >= 1 (got ", nproc, ")");
  const std::string master = "127.0.0.1:" + std::to_string(free_port());
  // Each rank's OpenBLAS gets its share of the cores (read when the library loads), unless the user set it.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string blas_threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(nproc)));
  std::fprintf(stderr, "elbo train: starting %d ranks (rendezvous at %s, OPENBLAS_NUM_THREADS=%s)\n", nproc,
               master.c_str(), std::getenv("OPENBLAS_NUM_THREADS") ? std::getenv("OPENBLAS_NUM_THREADS")
                                                                    : blas_threads.c_str());
  struct sigaction forward {};
  forward.sa_handler = remember_signal;  // no SA_RESTART: waiting wakes up to pass the signal on
  sigemptyset(&forward.sa_mask);
  ::sigaction(SIGINT, &forward, nullptr);
  ::sigaction(SIGTERM, &forward, nullptr);
  ::sigaction(SIGHUP, &forward, nullptr);
  std::fflush(stdout);
  std::fflush(stderr);

  const pid_t launcher = ::getpid();
  std::vector<pid_t> pids(nproc, 0);
  auto signal_all = [&](int sig) {
    for (pid_t pid : pids)
      if (pid > 0) ::kill(pid, sig);
  };
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> argv = {"elbo"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--rank", std::to_string(r), "--world-size", std::to_string(nproc), "--master", master});
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int error = errno;
      signal_all(SIGKILL);
      throw std::runtime_error(detail::concat("elbo train --nproc: cannot start rank ", r, ": ", std::strerror(error)));
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a launcher that dies takes its ranks along (they checkpoint and stop)
      if (::getppid() != launcher) ::_exit(1);
      if (r > 0) {  // only rank 0 prints results
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDOUT_FILENO);
      }
      ::setenv("OPENBLAS_NUM_THREADS", blas_threads.c_str(), 0);
      ::execv("/proc/self/exe", cargv.data());
      std::fprintf(stderr, "elbo train --nproc: cannot run /proc/self/exe for rank %d: %s\n", r, std::strerror(errno));
      ::_exit(127);
    }
    pids[r] = pid;
  }

  // Wait for all ranks. The first failure decides the exit status; the others are stopped.
  using Clock = std::chrono::steady_clock;
  const auto grace = std::chrono::duration<double>(timeout_s + 10);
  int code = 0, alive = nproc;
  bool failed = false, killed = false;
  Clock::time_point failed_at;
  while (alive > 0) {
    if (pending_signal != 0) {
      signal_all(pending_signal);
      pending_signal = 0;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      const auto it = std::find(pids.begin(), pids.end(), pid);
      if (it == pids.end()) continue;
      const int r = static_cast<int>(it - pids.begin());
      *it = 0;
      --alive;
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      const bool interrupted = WIFEXITED(status) && WEXITSTATUS(status) == 130;  // agreed stop: the others follow
      if (interrupted && code == 0) code = 130;
      if (!ok && !interrupted && !failed) {
        failed = true;
        failed_at = Clock::now();
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        std::fprintf(stderr, "elbo train: rank %d (pid %d) %s%s\n", r, static_cast<int>(pid), describe(status).c_str(),
                     alive > 0 ? "; stopping the other ranks" : "");
        signal_all(SIGTERM);
      }
    } else if (pid == 0) {
      if (failed && !killed && Clock::now() - failed_at > grace) {
        signal_all(SIGKILL);
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else if (errno != EINTR) {
      break;  // no children left
    }
  }
  return code;
}

}  // namespace elbo::cli
