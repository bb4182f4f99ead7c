// libFuzzer target: a run directory's checkpoint.pt from anyone, through run::load_run (LibTorch's
// archive reader, the checksum, the info block, the stored config, the model it describes, the
// weights). Each input is tried twice:
//  1. as it is;
//  2. when LibTorch reads it as an archive, with its entries re-sealed under a valid checksum, as
//     an attacker who writes the CRC would send it, so that the checks behind the checksum (info,
//     config, names, shapes and types of the weights) are fuzzed too.
// std::invalid_argument is the expected refusal; a crash, a sanitizer report or any other
// exception is a finding. Stored configs whose parameters alone would exceed 256 MB are skipped
// (load_run refuses them only beyond the memory available; tests/run covers that check).
#include "elbo/core/config.h"
#include "elbo/data/schema.h"
#include "elbo/run/memory_estimate.h"
#include "elbo/run/run_directory.h"
#include "elbo/train/archive_check.h"
#include "elbo/train/checkpoint.h"

#include <torch/serialize.h>
#include <zlib.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

char dir_name[] = "/tmp/checkpoint_fuzzer.XXXXXX";  // plain storage: still there in the exit handler

const std::string& run_dir() {
  static const std::string dir = [] {
    if (!::mkdtemp(dir_name)) __builtin_trap();
    std::atexit([] { std::filesystem::remove_all(dir_name); });
    return std::string(dir_name);
  }();
  return dir;
}

void load(const std::string& bytes) {
  const std::string path = run_dir() + "/checkpoint.pt";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) __builtin_trap();
  }
  try {
    const elbo::train::CheckpointInfo info = elbo::train::read_checkpoint_info(path);
    const elbo::Config config = elbo::Config::from_toml(info.config_toml, "stored");
    auto side = [](int64_t v) { return v >= 0 && v <= (int64_t{1} << 20); };  // load_run refuses the rest
    if (info.features > 0 && info.features <= (int64_t{1} << 40) && side(info.image.channels) &&
        side(info.image.height) && side(info.image.width)) {
      const auto e = elbo::run::estimate_model_memory(config, elbo::data::Schema::of_features(info.features, info.image));
      if (e.total() > (int64_t{256} << 20) || config.get_int("train.threads") > 8) return;
    }
    elbo::run::LoadedRun run = elbo::run::load_run(run_dir());
    (void)run;
  } catch (const std::invalid_argument&) {
  }
}

/// The entries of an archive LibTorch reads, written again with the checksum save_checkpoint
/// would store (CRC-32 over names and bytes in name order); empty if LibTorch refuses the bytes.
std::string resealed(const uint8_t* data, size_t size) {
  torch::serialize::InputArchive in;
  try {
    elbo::train::check_torch_archive(std::string(reinterpret_cast<const char*>(data), size), "fuzz");  // as the loader does
    in.load_from(reinterpret_cast<const char*>(data), size);
  } catch (const std::exception&) {  // pass 1 fed the same bytes to the product's reader
    return {};
  }
  std::string bytes;
  try {  // a tensor the harness cannot re-seal is left to pass 1, which reads the same entries
    std::vector<std::string> keys = in.keys();
    std::sort(keys.begin(), keys.end());
    torch::serialize::OutputArchive out;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (const std::string& key : keys) {
      torch::Tensor t;
      if (key == "checksum" || !in.try_read(key, t)) continue;
      const torch::Tensor c = t.detach().cpu().contiguous();
      crc = crc32(crc, reinterpret_cast<const Bytef*>(key.data()), static_cast<uInt>(key.size()));
      crc = crc32(crc, static_cast<const Bytef*>(c.data_ptr()), static_cast<uInt>(c.numel() * c.element_size()));
      out.write(key, t, /*is_buffer=*/true);
    }
    out.write("checksum", torch::tensor({static_cast<int64_t>(crc)}), /*is_buffer=*/true);
    out.save_to([&](const void* p, size_t n) {
      bytes.append(static_cast<const char*>(p), n);
      return n;
    });
  } catch (const std::exception&) {
    return {};
  }
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  load(std::string(reinterpret_cast<const char*>(data), size));
  const std::string sealed = resealed(data, size);
  if (!sealed.empty()) load(sealed);
  return 0;
}
