#include "elbo/core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace elbo {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

TEST(AtomicFile, WritesAndReplacesWholeFiles) {
  char tmpl[] = "/tmp/elbo_atomic_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  write_file_atomic(dir + "/a", "first");
  write_file_atomic(dir + "/a", "second");
  EXPECT_EQ(read_file(dir + "/a"), "second");
  EXPECT_FALSE(exists(dir + "/a.tmp." + std::to_string(::getpid())));
  EXPECT_THROW(write_file_atomic(dir + "/missing/a", "x"), std::runtime_error);
  std::system(("rm -rf " + dir).c_str());
}

TEST(AtomicFile, StreamedPiecesAndAFailingProducerLeavesTheOldFile) {
  char tmpl[] = "/tmp/elbo_atomic_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl), path = dir + "/a";
  write_file_atomic(path, [](const ByteSink& write) {
    write("ab", 2);
    write("", 0);
    write("cde", 3);
  });
  EXPECT_EQ(read_file(path), "abcde");
  EXPECT_THROW(write_file_atomic(path,
                                 [](const ByteSink& write) {
                                   write("partial", 7);
                                   throw std::logic_error("producer failed");
                                 }),
               std::logic_error);
  EXPECT_EQ(read_file(path), "abcde");
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
  std::system(("rm -rf " + dir).c_str());
}

TEST(AtomicFile, RemovesOnlyTemporariesOfDeadProcesses) {
  char tmpl[] = "/tmp/elbo_atomic_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // its pid now names no process
  const std::string dead = dir + "/checkpoint.pt.tmp." + std::to_string(child);
  const std::string alive = dir + "/checkpoint.pt.tmp." + std::to_string(::getpid());
  const std::string other = dir + "/notes.tmp.txt";
  for (const auto& p : {dead, alive, other}) std::ofstream(p) << "partial";
  EXPECT_EQ(remove_stale_temporaries(dir), 1);
  EXPECT_FALSE(exists(dead));
  EXPECT_TRUE(exists(alive));
  EXPECT_TRUE(exists(other));
  EXPECT_EQ(remove_stale_temporaries(dir + "/no-such-dir"), 0);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace elbo
