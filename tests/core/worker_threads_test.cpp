#include "elbo/core/worker_threads.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

using namespace elbo;

TEST(WorkerThreads, PartRangesTileTheRange) {
  for (const int64_t count : {0, 1, 7, 64, 1000})
    for (const int parts : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int part = 0; part < parts; ++part) {
        const auto [begin, end] = part_range(count, part, parts);
        EXPECT_EQ(begin, next) << count << " items, part " << part << " of " << parts;
        EXPECT_LE(end - begin, count / parts + 1);
        next = end;
      }
      EXPECT_EQ(next, count);
    }
}

TEST(WorkerThreads, EveryPartRunsOnceOnItsOwnThreadPerRun) {
  for (const int threads : {1, 2, 3}) {
    WorkerThreads team(threads);
    ASSERT_EQ(team.size(), threads);
    for (int round = 0; round < 200; ++round) {
      std::vector<int> calls(threads, 0);
      std::vector<std::thread::id> ids(threads);
      team.run([&](int part) {
        ++calls[part];
        ids[part] = std::this_thread::get_id();
      });
      for (int part = 0; part < threads; ++part) EXPECT_EQ(calls[part], 1) << "part " << part << ", round " << round;
      EXPECT_EQ(ids[0], std::this_thread::get_id());  // part 0 is the caller's
      for (int part = 1; part < threads; ++part) EXPECT_NE(ids[part], ids[0]);
    }
  }
}

TEST(WorkerThreads, AnExceptionInAnyPartReachesTheCallerAndTheTeamGoesOn) {
  WorkerThreads team(2);
  for (const int failing : {0, 1}) {
    EXPECT_THROW(team.run([&](int part) {
      if (part == failing) throw std::runtime_error("part failed");
    }),
                 std::runtime_error);
    int sum = 0;
    team.run([&](int part) {
      if (part == 1) sum = 1;
    });
    EXPECT_EQ(sum, 1);
  }
  EXPECT_THROW(WorkerThreads(0), std::exception);
}
