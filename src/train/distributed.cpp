#include "elbo/train/distributed.h"

#include "elbo/core/check.h"
#include "elbo/core/error_message.h"
#include "elbo/core/config.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace elbo::train {
namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

/// The local address this host uses to reach `host` (the interface the other
/// ranks can reach too); "" when it cannot be determined. No packet is sent.
std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) return "";
  std::string out;
  const int fd = ::socket(found->ai_family, SOCK_DGRAM, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    char text[INET6_ADDRSTRLEN] = "";
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      const void* addr = local.ss_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                                                    : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      if (::inet_ntop(local.ss_family, addr, text, sizeof text)) out = text;
    }
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  return out;
}

/// Gloo's network device: the interface named by GLOO_SOCKET_IFNAME, else loopback for a file
/// rendezvous, else the one that routes to the master.
std::shared_ptr<::gloo::transport::Device> gloo_device(const DistributedOptions& o) {
  if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name)
    return c10d::ProcessGroupGloo::createDeviceForInterface(name);
  if (!o.store_file.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  const std::string local = local_address_towards(o.master_addr, o.master_port);
  return local.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                       : c10d::ProcessGroupGloo::createDeviceForHostname(local);
}

std::string joined_key(int rank) { return "elbo/joined/" + std::to_string(rank); }

}  // namespace

std::pair<std::string, int> parse_master(const std::string& text) {
  const auto colon = text.rfind(':');
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  ELBO_CHECK(!host.empty() && !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos,
             "--master '", text, "': expected ADDR:PORT (e.g. 10.0.0.1:29500), the address and port of rank 0");
  const int p = std::stoi(port);
  ELBO_CHECK(p >= 1 && p <= 65535, "--master '", text, "': port ", p, " is outside 1..65535");
  return {host, p};
}

double rendezvous_timeout(const Config& config) { return config.get_double("train.dist_timeout"); }

void check_data_parallel(const Config& config) {
  const std::string& type = config.get_string("objective.type");
  const char* const fix = "; train it in one process (without --nproc/--world-size)";
  ELBO_CHECK(type != "geco", "objective.type = \"geco\" is not supported in data-parallel training: its Lagrange "
             "multiplier follows each process's batch and would differ between ranks", fix);
  ELBO_CHECK(type != "tcvae", "objective.type = \"tcvae\" is not supported in data-parallel training: its estimate of "
             "the total correlation uses every example of the batch, which no single rank has", fix);
  ELBO_CHECK(config.get_double("objective.free_bits") == 0, "objective.free_bits > 0 is not supported in data-parallel "
             "training: the floor applies to the batch mean of each dimension's KL, which no single rank has", fix);
}

struct Distributed::Impl {
  DistributedOptions options;
  double group_timeout_s = 0;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;

  std::string who() const {
    return detail::concat("rank ", options.rank, " of ", options.world_size, ": ");
  }
  std::runtime_error lost(const std::string& what, const std::exception& e, double timeout) const {
    return std::runtime_error(detail::concat(
        who(), what, " failed: another rank exited or did not answer within ", timeout,
        " s (train.dist_timeout): ", message_of(e)));
  }
  /// Runs one collective on `tensor` and waits for it; a failure names `action`.
  template <class Collective>
  void run(at::Tensor& tensor, Collective collective, const std::string& action) const {
    ELBO_CHECK(group, "elbo::train::Distributed: start_group() first");
    std::vector<at::Tensor> tensors{tensor};
    try {
      collective(*group, tensors)->wait();
    } catch (const std::exception& e) {
      throw lost(action, e, group_timeout_s);
    }
  }
};

Distributed::Distributed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Distributed::~Distributed() = default;

std::shared_ptr<Distributed> Distributed::connect(const DistributedOptions& options) {
  ELBO_CHECK(options.world_size >= 1, "--world-size must be >= 1 (got ", options.world_size, ")");
  ELBO_CHECK(options.rank >= 0 && options.rank < options.world_size, "--rank ", options.rank, " must be in [0, ",
             options.world_size, ") for --world-size ", options.world_size);
  const bool file = !options.store_file.empty();
  ELBO_CHECK(file || (options.master_port >= 1 && options.master_port <= 65535), "master port ", options.master_port,
             " is outside 1..65535");
  ELBO_CHECK(options.timeout_s > 0, "train.dist_timeout must be > 0 (got ", options.timeout_s, ")");
  // A peer that dies closes its sockets; writing to them must fail the collective with an error that names the
  // step, not end this rank by SIGPIPE before the launcher learns which rank died first.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::string where = file ? options.store_file : detail::concat(options.master_addr, ":", options.master_port);
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(options.master_port);
  so.isServer = options.rank == 0;
  so.numWorkers = options.world_size;
  so.waitWorkers = false;  // the join below waits, naming the ranks that are missing
  so.timeout = to_ms(options.timeout_s);
  try {
    if (file) {
      impl->store = c10::make_intrusive<c10d::FileStore>(options.store_file, options.world_size);
      impl->store->setTimeout(to_ms(options.timeout_s));
    } else {
      impl->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(options.rank == 0
        ? detail::concat(impl->who(), "cannot serve the rendezvous store at ", where, ": ", message_of(e))
        : detail::concat(impl->who(), "cannot reach rank 0's rendezvous store at ", where, " within ",
                         options.timeout_s, " s (train.dist_timeout): ", message_of(e)));
  }
  std::vector<std::string> keys;
  for (int r = 0; r < options.world_size; ++r) keys.push_back(joined_key(r));
  try {
    impl->store->set(joined_key(options.rank), std::vector<uint8_t>{1});
    impl->store->wait(keys, to_ms(options.timeout_s));
  } catch (const std::exception& e) {
    std::string missing;
    try {
      for (int r = 0; r < options.world_size; ++r)
        if (!impl->store->check({joined_key(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    } catch (const std::exception&) {
      missing = "?";  // the store itself is gone (rank 0 exited)
    }
    throw std::runtime_error(detail::concat(
        impl->who(), "rank(s) ", missing, " did not join the rendezvous at ", where, " within ", options.timeout_s,
        " s (train.dist_timeout); start every rank with the same --master and --world-size (", message_of(e), ")"));
  }
  return std::shared_ptr<Distributed>(new Distributed(std::move(impl)));
}

int Distributed::rank() const { return impl_->options.rank; }
int Distributed::world_size() const { return impl_->options.world_size; }
double Distributed::timeout_s() const { return impl_->options.timeout_s; }

void Distributed::set(const std::string& key, const std::string& value) {
  try {
    impl_->store->set("elbo/" + key, std::vector<uint8_t>(value.begin(), value.end()));
  } catch (const std::exception& e) {
    throw impl_->lost("publishing '" + key + "' in the rendezvous store", e, impl_->options.timeout_s);
  }
}

std::string Distributed::get(const std::string& key) {
  try {
    const std::vector<uint8_t> v = impl_->store->get("elbo/" + key);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    throw impl_->lost("reading '" + key + "' from the rendezvous store", e, impl_->options.timeout_s);
  }
}

void Distributed::start_group(const c10::Device& device, double timeout_s) {
  ELBO_CHECK(!impl_->group, "elbo::train::Distributed::start_group: the process group exists already");
  ELBO_CHECK(timeout_s > 0, "train.dist_timeout must be > 0 (got ", timeout_s, ")");
  impl_->group_timeout_s = timeout_s;
  const DistributedOptions& o = impl_->options;
  try {
    if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
      ::setenv("NCCL_BLOCKING_WAIT", "1", 0);  // makes NCCL honour the timeout instead of waiting forever
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = to_ms(timeout_s);
      impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, o.rank, o.world_size, nccl);
#else
      ELBO_CHECK(false, "data-parallel training on CUDA needs a LibTorch built with NCCL (USE_C10D_NCCL); this one "
                 "has only Gloo: train on train.device=cpu or build against a CUDA LibTorch");
#endif
    } else {
      auto gloo = c10d::ProcessGroupGloo::Options::create(to_ms(timeout_s));
      gloo->devices.push_back(gloo_device(o));
      impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, o.rank, o.world_size, gloo);
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw impl_->lost("connecting the process group", e, timeout_s);
  }
}

void Distributed::all_reduce_sum(at::Tensor& tensor, const std::string& what) {
  impl_->run(tensor, [](c10d::ProcessGroup& g, std::vector<at::Tensor>& t) { return g.allreduce(t); },
             "all-reducing " + what);
}

void Distributed::broadcast(at::Tensor& tensor, const std::string& what) {
  impl_->run(tensor, [](c10d::ProcessGroup& g, std::vector<at::Tensor>& t) { return g.broadcast(t); },
             "broadcasting " + what);
}

}  // namespace elbo::train
