// The archive check in front of LibTorch's reader: a checkpoint save_checkpoint writes passes;
// the numbers LibTorch trusts (ZIP sizes, pickle memo indices, storage element counts) are
// refused when they exceed the file, naming the record.
#include "elbo/train/archive_check.h"

#include "elbo/model/vae.h"
#include "elbo/train/checkpoint.h"
#include "elbo/core/atomic_file.h"

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <sstream>

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

/// The archive's records written again by LibTorch's own writer (TorchScript source deflated, as
/// torch::save does), with `edit` applied to each record's name and bytes first and `extra` added.
std::string rewritten(const std::string& bytes, const std::function<void(const std::string&, std::string&)>& edit,
                      const std::pair<std::string, std::string>& extra = {}) {
  std::istringstream in(bytes);
  caffe2::serialize::PyTorchStreamReader reader(&in);
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
    return n;
  });
  auto write = [&](const std::string& name, const std::string& data) {
    const bool code = name.size() > 3 && name.compare(name.size() - 3, 3, ".py") == 0;
    writer.writeRecord(name, data.data(), data.size(), code);
  };
  for (const std::string& name : reader.getAllRecords()) {
    if (name == "version") continue;  // the writer adds its own
    auto [data, size] = reader.getRecord(name);
    std::string record(static_cast<const char*>(data.get()), size);
    edit(name, record);
    write(name, record);
  }
  if (!extra.first.empty()) write(extra.first, extra.second);
  writer.writeEndOfFile();
  return out;
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

// LibTorch compiles the archive's TorchScript source (code/__torch__.py) while reading it, and a
// class named in a pickle is built from that source: the checkpoint fuzzer's first finding was a
// crash inside that compiler (tests/bad_inputs/checkpoint/torchscript_crash.pt).
TEST(ArchiveCheck, AcceptsItsRecordsWrittenAgain) {
  EXPECT_EQ(refusal(rewritten(written_checkpoint(), [](const std::string&, std::string&) {})), "");
}

TEST(ArchiveCheck, RefusesTorchScriptBeyondAModuleOfBuffers) {
  const std::string b = rewritten(written_checkpoint(), [](const std::string& name, std::string& record) {
    if (name == "code/__torch__.py") record += "  def forward(self) -> int:\n    return 1\n";
  });
  EXPECT_THAT(refusal(b), HasSubstr("record 'archive/code/__torch__.py': line"));
  EXPECT_THAT(refusal(b), HasSubstr("is not TorchScript that torch::save writes for a checkpoint"));
}

TEST(ArchiveCheck, RefusesTorchScriptSourceItDoesNotWrite) {
  const std::string b = rewritten(written_checkpoint(), [](const std::string&, std::string&) {},
                                  {"code/__torch__/other.py", "class Other(Module):\n  pass\n"});
  EXPECT_THAT(refusal(b), HasSubstr("record 'archive/code/__torch__/other.py' is TorchScript source torch::save does "
                                    "not write"));
}

TEST(ArchiveCheck, RefusesAClassItDoesNotWrite) {
  const std::string b = rewritten(written_checkpoint(), [](const std::string& name, std::string& record) {
    if (name != "data.pkl") return;
    const size_t at = record.find("__torch__\nModule\n");
    ASSERT_NE(at, std::string::npos);
    record.replace(at, 17, "__torch__\nModulx\n");
  });
  EXPECT_THAT(refusal(b), HasSubstr("GLOBAL '__torch__.Modulx' is not one torch::save writes"));
}

}  // namespace
}  // namespace elbo::train
