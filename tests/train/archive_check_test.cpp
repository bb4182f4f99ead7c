// The archive check in front of LibTorch's reader: a checkpoint save_checkpoint writes passes;
// the numbers LibTorch trusts (ZIP sizes, pickle memo indices, storage element counts) are
// refused when they exceed the file, naming the record.
#include "elbo/train/archive_check.h"

#include "elbo/model/vae.h"
#include "elbo/train/checkpoint.h"
#include "elbo/core/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

using ::testing::HasSubstr;

namespace elbo::train {
namespace {

std::string written_checkpoint() {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("archive_check" + std::to_string(::getpid()))).string();
  model::VaeOptions o;
  o.features = 10;
  o.latent_dim = 2;
  o.hidden = {6};
  model::Vae vae(o);
  save_checkpoint(path, *vae, nullptr, {});
  std::string bytes = read_file(path);
  std::filesystem::remove(path);
  return bytes;
}

std::string refusal(const std::string& bytes) {
  try {
    check_torch_archive(bytes, "x.pt");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

/// Offset of archive/data.pkl's bytes (stored) in the file.
size_t pickle_start(const std::string& b) {
  const size_t name = b.find("archive/data.pkl");  // first occurrence: its local header
  auto u16 = [&](size_t at) { return static_cast<size_t>(static_cast<unsigned char>(b[at])) |
                                     static_cast<size_t>(static_cast<unsigned char>(b[at + 1])) << 8; };
  const size_t header = name - 30;
  return header + 30 + u16(header + 26) + u16(header + 28);
}

TEST(ArchiveCheck, AcceptsWhatSaveCheckpointWrites) {
  EXPECT_EQ(refusal(written_checkpoint()), "");
}

TEST(ArchiveCheck, RefusesTruncatedAndForeignFiles) {
  const std::string b = written_checkpoint();
  EXPECT_THAT(refusal(b.substr(0, b.size() / 2)), HasSubstr("no end of central directory record"));
  EXPECT_THAT(refusal(""), HasSubstr("x.pt' is truncated or corrupt (0 bytes)"));
  EXPECT_THAT(refusal("not a checkpoint"), HasSubstr("no end of central directory record"));
}

TEST(ArchiveCheck, RefusesARecordLargerThanTheFile) {
  std::string b = written_checkpoint();
  const size_t central = b.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  for (size_t i = 20; i < 28; ++i) b[central + i] = i % 4 == 3 ? '\x40' : '\0';  // both sizes 2^30
  EXPECT_THAT(refusal(b), HasSubstr("claims 1073741824 bytes at byte"));
}

TEST(ArchiveCheck, RefusesAHugeMemoIndex) {
  std::string b = written_checkpoint();
  const size_t p = pickle_start(b);
  const size_t put = b.find(std::string("q\0", 2), p);  // BINPUT 0, after the first GLOBAL
  ASSERT_NE(put, std::string::npos);
  b.replace(put, 5, std::string("r\0\0\0\x40", 5));  // LONG_BINPUT 2^30
  EXPECT_THAT(refusal(b), HasSubstr("memo index 1073741824 exceeds the record"));
}

TEST(ArchiveCheck, RefusesAStorageLargerThanItsRecord) {
  std::string b = written_checkpoint();
  const size_t p = pickle_start(b);
  // The first persistent id: ... BINUNICODE "cpu" BINPUT n BININT1 numel TUPLE BINPERSID.
  const size_t persid = b.find("tQ", p);
  ASSERT_NE(persid, std::string::npos);
  ASSERT_EQ(b[persid - 2], 'K');
  b[persid - 1] = '\xff';
  EXPECT_THAT(refusal(b), HasSubstr("claims 255 elements, its record holds"));
}

}  // namespace
}  // namespace elbo::train
