// Data-parallel pieces that need no second process: the shards of each global
// batch, the sharded reparameterization noise, the --master parser, the refused
// objectives, and the c10d wrapper with two ranks as two threads of this process
// (collectives, a rank that leaves, one that hangs, one that never joins).
// tests/train/data_parallel_test.sh runs real multi-process training.
#include "elbo/core/batch_shard.h"
#include "elbo/core/config.h"
#include "elbo/dist/normal.h"
#include "elbo/train/distributed.h"
#include "elbo/train/shard.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "support/throws.h"

namespace elbo::train {
namespace {

TEST(Shard, FullBatchesGiveRankRItsBlockOfB) {
  // 10 examples, 2 ranks of 3: global batches [0, 6) and [6, 10).
  EXPECT_EQ(global_batches(10, 3, 2), 2);
  const Shard a = shard_of(10, 3, 2, 0, 0), b = shard_of(10, 3, 2, 1, 0);
  EXPECT_EQ(a.global_begin, 0);
  EXPECT_EQ(a.global_end, 6);
  EXPECT_EQ(a.begin, 0);
  EXPECT_EQ(a.end, 3);
  EXPECT_EQ(b.begin, 3);
  EXPECT_EQ(b.end, 6);
}

TEST(Shard, UnevenLastBatchIsSpreadAndRankZeroAlwaysHasSome) {
  const Shard a = shard_of(10, 3, 2, 0, 1), b = shard_of(10, 3, 2, 1, 1);  // 4 left: 2 + 2
  EXPECT_EQ(a.global_rows(), 4);
  EXPECT_EQ(a.begin, 6);
  EXPECT_EQ(a.end, 8);
  EXPECT_EQ(b.begin, 8);
  EXPECT_EQ(b.end, 10);
  const Shard c = shard_of(7, 3, 2, 0, 1), d = shard_of(7, 3, 2, 1, 1);  // 1 left: rank 0 takes it
  EXPECT_EQ(c.rows(), 1);
  EXPECT_EQ(c.begin, 6);
  EXPECT_EQ(d.rows(), 0);
  const Shard e = shard_of(13, 4, 3, 0, 1), f = shard_of(13, 4, 3, 1, 1), g = shard_of(13, 4, 3, 2, 1);
  EXPECT_EQ(e.rows(), 1);  // 1 left of 12 + 1: ranks 1 and 2 get none
  EXPECT_EQ(f.rows(), 0);
  EXPECT_EQ(g.rows(), 0);
}

TEST(Shard, RanksPartitionEveryEpochInOrder) {
  for (int64_t n : {1, 2, 5, 64, 100, 257})
    for (int64_t batch : {1, 3, 32})
      for (int world : {1, 2, 3, 4}) {
        int64_t next = 0;
        const int64_t batches = global_batches(n, batch, world);
        ASSERT_EQ(batches, (n + batch * world - 1) / (batch * world));
        for (int64_t b = 0; b < batches; ++b) {
          int64_t largest = 0, smallest = batch;
          for (int r = 0; r < world; ++r) {
            const Shard s = shard_of(n, batch, world, r, b);
            ASSERT_EQ(s.begin, next) << "n=" << n << " B=" << batch << " W=" << world << " b=" << b << " r=" << r;
            ASSERT_LE(s.rows(), batch);
            largest = std::max(largest, s.rows());
            smallest = std::min(smallest, s.rows());
            next = s.end;
          }
          EXPECT_LE(largest - smallest, 1);  // evenly spread
          EXPECT_GT(shard_of(n, batch, world, 0, b).rows(), 0);
        }
        EXPECT_EQ(next, n);
      }
}

TEST(Shard, BadArgumentsAreRefused) {
  test::expect_invalid_argument([] { shard_of(10, 3, 2, 2, 0); }, {"rank 2 is outside [0, 2)"});
  test::expect_invalid_argument([] { shard_of(10, 3, 2, 0, 2); }, {"batch 2 is outside [0, 2)"});
}

TEST(BatchShard, NoiseIsTheGlobalBatchesRows) {
  const int64_t k = 3, global = 10, d = 4;
  torch::manual_seed(7);
  const torch::Tensor all = torch::randn({k, global, d});
  for (const auto& [offset, rows] : std::vector<std::pair<int64_t, int64_t>>{{0, 5}, {5, 5}, {7, 3}}) {
    torch::manual_seed(7);
    BatchShardScope scope({offset, rows, global});
    EXPECT_TRUE(torch::equal(randn_batch({k, rows, d}, torch::TensorOptions()), all.narrow(1, offset, rows)));
  }
  EXPECT_EQ(current_batch_shard(), nullptr);
  // Outside a scope, or when axis -2 is not the shard's rows: plain randn.
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(randn_batch({k, global, d}, torch::TensorOptions()), all));
  BatchShardScope scope({0, 5, global});
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(randn_batch({k, global, d}, torch::TensorOptions()), all));
}

TEST(BatchShard, NormalRsampleOfTwoHalvesEqualsTheWholeBatch) {
  // One process with the global batch of 6 vs two ranks with 3 rows each.
  torch::manual_seed(1);
  const torch::Tensor loc = torch::randn({6, 2}), log_scale = torch::randn({6, 2}) * 0.3;
  torch::manual_seed(99);
  const torch::Tensor whole = dist::Normal(loc, log_scale).rsample(4);  // [4, 6, 2]
  for (int64_t r = 0; r < 2; ++r) {
    torch::manual_seed(99);
    BatchShardScope scope({3 * r, 3, 6});
    const torch::Tensor half = dist::Normal(loc.narrow(0, 3 * r, 3), log_scale.narrow(0, 3 * r, 3)).rsample(4);
    EXPECT_TRUE(torch::equal(half, whole.narrow(1, 3 * r, 3))) << "rank " << r;
  }
}

TEST(Distributed, ParseMaster) {
  EXPECT_EQ(parse_master("127.0.0.1:29500"), std::make_pair(std::string("127.0.0.1"), 29500));
  EXPECT_EQ(parse_master("node-1.example.org:80"), std::make_pair(std::string("node-1.example.org"), 80));
  EXPECT_EQ(parse_master("[::1]:1234"), std::make_pair(std::string("::1"), 1234));
  test::expect_invalid_argument([] { parse_master("localhost"); }, {"--master 'localhost': expected ADDR:PORT"});
  test::expect_invalid_argument([] { parse_master(":29500"); }, {"expected ADDR:PORT"});
  test::expect_invalid_argument([] { parse_master("host:12a"); }, {"expected ADDR:PORT"});
  test::expect_invalid_argument([] { parse_master("host:0"); }, {"port 0 is outside 1..65535"});
  test::expect_invalid_argument([] { parse_master("host:99999"); }, {"port 99999 is outside 1..65535"});
}

TEST(Distributed, ObjectivesThatNeedTheWholeBatchAreRefused) {
  Config c;
  EXPECT_NO_THROW(check_data_parallel(c));
  c.set("objective.type=iwae");
  EXPECT_NO_THROW(check_data_parallel(c));
  c.set("objective.type=geco");
  test::expect_invalid_argument([&] { check_data_parallel(c); }, {"\"geco\" is not supported in data-parallel"});
  c.set("objective.type=tcvae");
  test::expect_invalid_argument([&] { check_data_parallel(c); }, {"\"tcvae\" is not supported in data-parallel"});
  c.set("objective.type=elbo");
  c.set("objective.free_bits=0.5");
  test::expect_invalid_argument([&] { check_data_parallel(c); }, {"free_bits > 0 is not supported"});
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

DistributedOptions options(int rank, int port, double timeout_s) {
  DistributedOptions o;
  o.rank = rank;
  o.world_size = 2;
  o.master_port = port;
  o.timeout_s = timeout_s;
  return o;
}

std::string failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Distributed, TwoRanksSumBroadcastAndTalk) {
  const int port = free_port();
  auto rank = [port](int r) {
    auto d = Distributed::connect(options(r, port, 30));
    EXPECT_EQ(d->rank(), r);
    EXPECT_EQ(d->world_size(), 2);
    if (r == 0) d->set("greeting", "hello from 0");
    EXPECT_EQ(d->get("greeting"), "hello from 0");
    d->start_group(c10::Device(c10::kCPU), 30);
    torch::Tensor sum = torch::full({5}, r + 1.0);
    d->all_reduce_sum(sum, "a test tensor");
    torch::Tensor from0 = torch::full({3}, r == 0 ? 7.0 : -1.0, torch::kDouble);
    d->broadcast(from0, "a test tensor");
    return std::make_pair(sum, from0);
  };
  auto other = std::async(std::launch::async, rank, 1);
  const auto mine = rank(0);
  const auto theirs = other.get();
  for (const auto& [sum, from0] : {mine, theirs}) {
    EXPECT_TRUE(torch::equal(sum, torch::full({5}, 3.0)));
    EXPECT_TRUE(torch::equal(from0, torch::full({3}, 7.0, torch::kDouble)));
  }
}

TEST(Distributed, ARankThatLeavesFailsTheOthersWithAClearError) {
  const int port = free_port();
  std::promise<void> ready;
  auto leaver = std::async(std::launch::async, [port, started = ready.get_future()]() mutable {
    auto d = Distributed::connect(options(1, port, 30));
    d->start_group(c10::Device(c10::kCPU), 30);
    started.wait();
  });  // then returns: its process group closes its connections
  auto d = Distributed::connect(options(0, port, 30));
  d->start_group(c10::Device(c10::kCPU), 30);
  ready.set_value();
  leaver.get();
  const auto start = std::chrono::steady_clock::now();
  const std::string error = failure_of([&] {
    torch::Tensor t = torch::ones({100});
    d->all_reduce_sum(t, "the gradients of step 1");
  });
  EXPECT_NE(error.find("rank 0 of 2: all-reducing the gradients of step 1 failed: another rank exited or did not "
                       "answer within 30 s (train.dist_timeout)"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));  // at once, not after the timeout
}

TEST(Distributed, ARankThatHangsFailsTheOthersAfterTheTimeout) {
  const int port = free_port();
  std::promise<void> done;
  auto hanger = std::async(std::launch::async, [port, finished = done.get_future()]() mutable {
    auto d = Distributed::connect(options(1, port, 30));
    d->start_group(c10::Device(c10::kCPU), 30);
    finished.wait();  // alive, but never joins the all-reduce
  });
  auto d = Distributed::connect(options(0, port, 30));
  d->start_group(c10::Device(c10::kCPU), 1);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = failure_of([&] {
    torch::Tensor t = torch::ones({100});
    d->all_reduce_sum(t, "the gradients of step 5");
  });
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done.set_value();
  hanger.get();
  EXPECT_NE(error.find("did not answer within 1 s (train.dist_timeout)"), std::string::npos) << error;
  EXPECT_NE(error.find("Timed out"), std::string::npos) << error;
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 15);
}

TEST(Distributed, ARankThatNeverJoinsIsNamedAfterTheTimeout) {
  const int port = free_port();
  const std::string error = failure_of([&] { Distributed::connect(options(0, port, 1)); });
  EXPECT_NE(error.find("rank 0 of 2: rank(s) 1 did not join the rendezvous at 127.0.0.1:" + std::to_string(port) +
                       " within 1 s (train.dist_timeout)"), std::string::npos) << error;
  const std::string unreachable = failure_of([&] { Distributed::connect(options(1, free_port(), 1)); });
  EXPECT_NE(unreachable.find("rank 1 of 2: cannot reach rank 0's rendezvous store at 127.0.0.1:"), std::string::npos)
      << unreachable;
}

TEST(Distributed, BadOptionsAreRefused) {
  DistributedOptions o;
  o.world_size = 2;
  o.rank = 2;
  test::expect_invalid_argument([&] { Distributed::connect(o); }, {"--rank 2 must be in [0, 2)"});
  o.rank = 0;
  o.timeout_s = 0;
  test::expect_invalid_argument([&] { Distributed::connect(o); }, {"train.dist_timeout must be > 0"});
}

}  // namespace
}  // namespace elbo::train
