// elbo train --nproc N: the local launcher of data-parallel ranks.
#include "commands.h"

#include "elbo/core/check.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
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

/// A fresh directory for the ranks' rendezvous file: a FileStore, so that no rank of a local run
/// listens on the network (a TCPStore would serve every interface).
std::string rendezvous_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/elbo-rendezvous-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("elbo train --nproc: cannot create a directory '" + pattern + "': " + std::strerror(errno));
  return pattern;
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
  const std::string dir = rendezvous_dir(), master = "file:" + dir + "/store";
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_dir{dir};
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
      // Every failure is named (a rank whose peer died may be reaped before that peer); the first sets the code.
      if (!ok && !interrupted) {
        std::fprintf(stderr, "elbo train: rank %d (pid %d) %s%s\n", r, static_cast<int>(pid), describe(status).c_str(),
                     !failed && alive > 0 ? "; stopping the other ranks" : "");
        if (!failed) {
          failed = true;
          failed_at = Clock::now();
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
          signal_all(SIGTERM);
        }
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
