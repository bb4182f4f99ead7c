#include "elbo/data/idx.h"

#include "data/temp_files.h"
#include "support/installed_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <vector>

namespace {

using elbo::data::read_idx;
using elbo::test::TempDir;
using elbo::test::read_raw;
using ::testing::HasSubstr;

void put_be(std::string& out, uint64_t bits, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

/// An IDX file written byte by byte: magic, big-endian dims, big-endian payload.
template <typename T>
std::string idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const std::vector<T>& values) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) put_be(out, d, 4);
  for (T v : values) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));  // little-endian host: the low bytes hold the value
    put_be(out, bits, sizeof(T));
  }
  return out;
}

std::string error_of(const std::string& path) {
  try {
    read_idx(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_idx(" << path << ") did not throw";
  return "";
}

template <typename T>
void expect_round_trip(uint8_t type, torch::ScalarType dtype, const std::vector<T>& values,
                       const std::vector<uint32_t>& dims) {
  TempDir dir;
  const std::vector<int64_t> shape(dims.begin(), dims.end());
  const auto expected =
      torch::from_blob(const_cast<T*>(values.data()), shape, torch::TensorOptions().dtype(dtype)).clone();
  const auto bytes = idx_bytes(type, dims, values);
  for (bool gz : {false, true}) {
    const auto path = gz ? dir.write_gzip("t.idx.gz", bytes) : dir.write("t.idx", bytes);
    const auto got = read_idx(path);
    EXPECT_EQ(got.scalar_type(), dtype) << path;
    EXPECT_EQ(got.sizes().vec(), shape) << path;
    EXPECT_TRUE(torch::equal(got, expected)) << path << "\n" << got << "\n" << expected;
  }
}

TEST(ReadIdx, RoundTripsEveryTypePlainAndGzip) {
  expect_round_trip<uint8_t>(0x08, torch::kUInt8, {0, 1, 127, 128, 254, 255}, {2, 3});
  expect_round_trip<int8_t>(0x09, torch::kInt8, {-128, -1, 0, 1, 127, 42}, {3, 2});
  expect_round_trip<int16_t>(0x0B, torch::kInt16, {-32768, -2, 0, 258, 32767, 7, 8, 9}, {2, 2, 2});
  expect_round_trip<int32_t>(0x0C, torch::kInt32, {INT32_MIN, -65536, 0, 16909060, INT32_MAX}, {5});
  expect_round_trip<float>(0x0D, torch::kFloat32, {-1.5f, 0.f, 3.14159f, 1e-30f, 6.5e30f, -0.25f}, {1, 2, 3});
  expect_round_trip<double>(0x0E, torch::kFloat64, {-1e300, 0.1, 2.0, 1e-300}, {2, 1, 2, 1});
}

TEST(WriteIdx, WritesTheBytesReadIdxReads) {
  TempDir dir;
  // Byte for byte what the hand-built file holds, and back bit for bit.
  const std::vector<float> values = {-1.5f, 0.f, 3.14159f, 1e-30f, 6.5e30f, -0.25f};
  const auto t = torch::from_blob(const_cast<float*>(values.data()), {1, 2, 3}, torch::kFloat32).clone();
  const std::string path = dir.path("w.idx");
  elbo::data::write_idx(path, t);
  EXPECT_EQ(read_raw(path), idx_bytes<float>(0x0D, {1, 2, 3}, values));
  for (const auto& x : {t, torch::randn({4, 5}, torch::kFloat64), torch::randint(0, 256, {3, 2, 2}).to(torch::kUInt8)}) {
    elbo::data::write_idx(path, x);
    const auto back = read_idx(path);
    EXPECT_EQ(back.scalar_type(), x.scalar_type());
    EXPECT_TRUE(torch::equal(back, x));
  }
  try {
    elbo::data::write_idx(path, torch::zeros({2}, torch::kInt64));
    ADD_FAILURE() << "an int64 tensor was written";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("uint8, float32 or float64 only"));
  }
}

TEST(ReadIdx, DecodesBigEndianBytes) {
  TempDir dir;
  // int16 0x0102 = 258, int16 0xFFFE = -2, then float32 0x3FC00000 = 1.5.
  const auto i16 = dir.write("i16", std::string("\0\0\x0B\x01\0\0\0\x02\x01\x02\xFF\xFE", 12));
  const auto f32 = dir.write("f32", std::string("\0\0\x0D\x01\0\0\0\x01\x3F\xC0\0\0", 12));
  EXPECT_TRUE(torch::equal(read_idx(i16), torch::tensor({258, -2}, torch::kInt16)));
  EXPECT_EQ(read_idx(f32).item<float>(), 1.5f);
}

TEST(ReadIdx, EmptyDimensionGivesEmptyTensor) {
  TempDir dir;
  const auto t = read_idx(dir.write("e", idx_bytes<uint8_t>(0x08, {0, 28}, {})));
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{0, 28}));
}

TEST(ReadIdx, MissingFile) {
  EXPECT_THAT(error_of("/nonexistent/dir/x.idx"),
              HasSubstr("/nonexistent/dir/x.idx: cannot open IDX file: No such file or directory"));
}

TEST(ReadIdx, BadMagic) {
  TempDir dir;
  const auto path = dir.write("m", std::string("\x01\x02\x08\x03\0\0\0\x01", 8));
  EXPECT_THAT(error_of(path), HasSubstr(path + ": not an IDX file: bad magic 0x01020803 at offset 0 "
                                                "(expected 00 00 <type> <ndim>)"));
  EXPECT_THAT(error_of(dir.write("short", std::string("\0\0", 2))),
              HasSubstr("not an IDX file: 2 bytes long"));
  EXPECT_THAT(error_of(dir.write("empty", "")), HasSubstr("not an IDX file: 0 bytes long"));
}

TEST(ReadIdx, UnknownTypeCode) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.write("t", std::string("\0\0\x0A\x01\0\0\0\x01\x05", 9))),
              HasSubstr("unknown IDX type code 0x0a at offset 2"));
}

TEST(ReadIdx, BadDimensionCount) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.write("d0", std::string("\0\0\x08\0", 4))),
              HasSubstr("bad IDX dimension count 0 at offset 3 (expected 1 to 8)"));
  EXPECT_THAT(error_of(dir.write("d9", std::string("\0\0\x08\x09", 4) + std::string(36, '\x01'))),
              HasSubstr("bad IDX dimension count 9"));
}

TEST(ReadIdx, TruncatedHeader) {
  TempDir dir;
  EXPECT_THAT(error_of(dir.write("h", std::string("\0\0\x08\x03\0\0\0\x02\0\0", 10))),
              HasSubstr("truncated header: expected 16 bytes for 3 dimensions, found 10"));
}

TEST(ReadIdx, TruncatedPayload) {
  TempDir dir;
  auto bytes = idx_bytes<int16_t>(0x0B, {3, 4}, std::vector<int16_t>(12, 7));
  bytes.resize(bytes.size() - 14);
  const auto plain = dir.write("p", bytes);
  EXPECT_THAT(error_of(plain),
              HasSubstr(plain + ": truncated: expected 24 payload bytes after the 12-byte header, found 10"));
  const auto gz = dir.write_gzip("p.gz", bytes);
  EXPECT_THAT(error_of(gz), HasSubstr("truncated: expected 24 payload bytes after the 12-byte header, found 10"));
}

TEST(ReadIdx, TrailingBytes) {
  TempDir dir;
  const auto bytes = idx_bytes<uint8_t>(0x08, {2, 2}, {1, 2, 3, 4}) + "xyz";
  EXPECT_THAT(error_of(dir.write("t", bytes)),
              HasSubstr("3 trailing bytes after the payload (expected the data to end at offset 16)"));
  EXPECT_THAT(error_of(dir.write_gzip("t.gz", bytes)),
              HasSubstr("3 trailing bytes after the payload (expected the data to end at offset 16 "
                        "(offset in the decompressed stream))"));
}

TEST(ReadIdx, HugeDeclaredSizeIsRejectedBeforeAllocating) {
  TempDir dir;
  const auto path = dir.write("huge", idx_bytes<uint8_t>(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}));
  EXPECT_THAT(error_of(path), HasSubstr("declared size too large"));
  // 2^17 * 2^17 * 8 bytes = 2^37 bytes, no overflow but over the limit.
  EXPECT_THAT(error_of(dir.write("big", idx_bytes<uint8_t>(0x0E, {1u << 17, 1u << 17}, {}))),
              HasSubstr("declared size too large: dimension 1 (131072) at offset 8"));
  // Within the limit but far beyond what a 40-byte gzip file can hold: refused by the
  // buffer's growth, not allocated whole (the fuzzer found the fast gzip path doing so).
  EXPECT_THAT(error_of(dir.write_gzip("8gb.gz", idx_bytes<uint8_t>(0x08, {1u << 17, 1u << 16}, {}))),
              HasSubstr("truncated: expected 8589934592 payload bytes after the 12-byte header, found 0"));
}

TEST(ReadIdx, CorruptGzip) {
  TempDir dir;
  const auto bytes = idx_bytes<uint8_t>(0x08, {1000}, std::vector<uint8_t>(1000, 3));
  auto gz = read_raw(dir.write_gzip("ok.gz", bytes));
  ASSERT_GT(gz.size(), 20u);

  auto garbled = gz;
  for (size_t i = 10; i < garbled.size() - 8; ++i) garbled[i] = static_cast<char>(0xFF);
  const auto path = dir.write("garbled.gz", garbled);
  EXPECT_THAT(error_of(path), HasSubstr(path + ": corrupt gzip stream"));

  auto bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x55;
  EXPECT_THAT(error_of(dir.write("crc.gz", bad_crc)), HasSubstr("corrupt gzip stream"));

  auto bad_length = gz;  // the trailer's ISIZE, the length mod 2^32, is checked too
  bad_length[bad_length.size() - 4] ^= 0x01;
  EXPECT_THAT(error_of(dir.write("length.gz", bad_length)), HasSubstr("corrupt gzip stream"));

  const auto cut = dir.write("cut.gz", gz.substr(0, gz.size() - 4));
  EXPECT_THAT(error_of(cut), HasSubstr("corrupt gzip stream"));
  EXPECT_THAT(error_of(cut), HasSubstr("truncated"));
}

TEST(ReadIdx, GzipOfSeveralMembers) {
  // gzip allows members one after the other (`cat a.gz b.gz`): the header in one, the payload
  // split over two more, and odd sizes so no part lines up with the element size.
  TempDir dir;
  std::vector<float> values(999);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i) - 7.0f;
  const auto bytes = idx_bytes<float>(0x0D, {27, 37}, values);
  const std::string members = read_raw(dir.write_gzip("a.gz", bytes.substr(0, 12))) +
                              read_raw(dir.write_gzip("b.gz", bytes.substr(12, 1001))) +
                              read_raw(dir.write_gzip("c.gz", bytes.substr(1013)));
  const auto got = read_idx(dir.write("abc.gz", members));
  ASSERT_EQ(got.sizes().vec(), (std::vector<int64_t>{27, 37}));
  EXPECT_TRUE(torch::equal(got.reshape(-1), torch::tensor(values)));
}

/// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

std::vector<std::filesystem::path> files_in(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(ReadIdx, ALargeGzipFileKeepsAnInflatedCopyCheckedByItsCrc) {
  TempDir dir;
  const std::string cache = dir.path("cache");
  ScopedEnv env("ELBO_DATA_CACHE", cache);
  // 9 MB (above the 8 MB threshold) of pseudo-random bytes: compressed less than 64:1, so the
  // fast path takes the file.
  std::vector<uint8_t> values(9 << 20);
  uint64_t state = 88172645463325252ull;
  for (auto& v : values) state ^= state << 13, state ^= state >> 7, state ^= state << 17, v = state >> 56;
  const auto expected = torch::from_blob(values.data(), {9, 1024, 1024}, torch::kUInt8).clone();
  const auto source = dir.write_gzip("big.idx.gz", idx_bytes<uint8_t>(0x08, {9, 1024, 1024}, values));

  EXPECT_TRUE(torch::equal(read_idx(source), expected));  // inflated, and the copy written
  const auto copies = files_in(cache);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(copies[0]), 16 + values.size());
  EXPECT_TRUE(torch::equal(read_idx(source), expected));  // from the copy

  // A damaged copy fails the CRC: the source is inflated again and the copy rewritten.
  {
    std::fstream f(copies[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1 << 20);
    f.put('\x7f');
  }
  EXPECT_TRUE(torch::equal(read_idx(source), expected));
  EXPECT_EQ(read_raw(copies[0].string()).substr(16), std::string(values.begin(), values.end()));

  // A changed source gets a copy of its own, which replaces the old one; another source's
  // copy stays.
  const auto other = dir.path("other.idx.gz");
  std::filesystem::copy_file(source, other);
  EXPECT_TRUE(torch::equal(read_idx(other), expected));
  ASSERT_EQ(files_in(cache).size(), 2u);
  std::filesystem::last_write_time(source, std::filesystem::last_write_time(source) + std::chrono::seconds(5));
  EXPECT_TRUE(torch::equal(read_idx(source), expected));
  const auto now = files_in(cache);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_TRUE(std::find(now.begin(), now.end(), copies[0]) == now.end()) << "the stale copy is still there";
}

TEST(ReadIdx, NoInflatedCopyWhenTheCacheIsOffOrTheFileSmall) {
  TempDir dir;
  {
    ScopedEnv env("ELBO_DATA_CACHE", dir.path("small"));
    read_idx(dir.write_gzip("small.gz", idx_bytes<uint8_t>(0x08, {4, 4}, std::vector<uint8_t>(16, 3))));
    EXPECT_TRUE(files_in(dir.path("small")).empty());
  }
  // Off: nothing in the default places either.
  ScopedEnv off("ELBO_DATA_CACHE", "off"), xdg("XDG_CACHE_HOME", dir.path("xdg")), home("HOME", dir.path("home"));
  std::vector<uint8_t> values(9 << 20);
  uint64_t state = 1;
  for (auto& v : values) state = state * 6364136223846793005ull + 1442695040888963407ull, v = state >> 56;
  const auto got = read_idx(dir.write_gzip("big.gz", idx_bytes<uint8_t>(0x08, {9 << 20}, values)));
  EXPECT_EQ(got.size(0), 9 << 20);
  EXPECT_FALSE(std::filesystem::exists(dir.path("xdg")));
  EXPECT_FALSE(std::filesystem::exists(dir.path("home")));
  EXPECT_FALSE(std::filesystem::exists("off"));  // not taken for a directory's name
}

TEST(ReadIdx, FashionMnist) {
  const std::string& dir = elbo::test::kFashionMnist;
  ELBO_REQUIRE_INSTALLED(dir + "train-images-idx3-ubyte.gz", "dataset-fashion-mnist");
  const auto images = read_idx(dir + "train-images-idx3-ubyte.gz");
  EXPECT_EQ(images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(images.sizes().vec(), (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_GT(images.max().item<int>(), 250);
  const auto labels = read_idx(dir + "train-labels-idx1-ubyte.gz");
  EXPECT_EQ(labels.sizes().vec(), (std::vector<int64_t>{60000}));
  EXPECT_TRUE(torch::equal(labels.to(torch::kInt64).bincount(), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_EQ(read_idx(dir + "t10k-images-idx3-ubyte.gz").size(0), 10000);
}

}  // namespace
