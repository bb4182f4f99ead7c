#include "elbo/train/checkpoint.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"

#include <torch/serialize.h>

#include <zlib.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace elbo::train {
namespace {

torch::Tensor string_tensor(const std::string& s) {
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())}, torch::kUInt8).clone();
}

std::string tensor_string(const torch::Tensor& t) {
  torch::Tensor c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<size_t>(c.numel()));
}

torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key, const std::string& path) {
  torch::Tensor t;
  ELBO_CHECK(archive.try_read(key, t), "checkpoint '", path, "': missing entry '", key, "' (not an elbo checkpoint?)");
  return t;
}

/// CRC-32 over names and bytes of the weights, the info block and the config: LibTorch's
/// archive reader does not verify its own checksums, so a flipped byte would load silently.
class Checksum {
 public:
  void add(const std::string& name, const torch::Tensor& t) {
    update(name.data(), name.size());
    const torch::Tensor c = t.detach().cpu().contiguous();
    update(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
  }
  int64_t value() const { return static_cast<int64_t>(crc_); }

 private:
  void update(const void* data, size_t size) {
    const auto* p = static_cast<const Bytef*>(data);
    while (size > 0) {
      const auto n = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
      crc_ = crc32(crc_, p, n);
      p += n;
      size -= n;
    }
  }
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

void open(torch::serialize::InputArchive& archive, const std::string& path) {
  std::string bytes = read_file(path);
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    throw std::invalid_argument(detail::concat("checkpoint '", path, "' is truncated or corrupt (", bytes.size(),
                                               " bytes): ", e.what_without_backtrace()));
  }
}

CheckpointInfo read_info(torch::serialize::InputArchive& archive, const std::string& path) {
  torch::Tensor ints = read_tensor(archive, "info", path);
  ELBO_CHECK(ints.dim() == 1 && ints.numel() == 7 && ints.scalar_type() == torch::kLong, "checkpoint '", path,
             "': info block has shape ", ints.sizes(), " and type ", ints.scalar_type(), ", expected 7 int64 entries");
  auto v = ints.accessor<int64_t, 1>();
  CheckpointInfo info;
  info.step = v[0];
  info.epoch = v[1];
  info.batch_in_epoch = v[2];
  info.features = v[3];
  info.image = ImageShape{v[4], v[5], v[6]};
  info.config_toml = tensor_string(read_tensor(archive, "config", path));
  torch::Tensor skipped;  // optional: absent in checkpoints written before it existed
  if (archive.try_read("skipped", skipped)) {
    ELBO_CHECK(skipped.numel() == 1 && skipped.scalar_type() == torch::kLong, "checkpoint '", path,
               "': entry 'skipped' must be one int64");
    info.skipped = skipped.item<int64_t>();
  }
  torch::Tensor state;  // optional: only objectives with state write it
  if (archive.try_read("objective_state", state)) {
    const std::string names = tensor_string(read_tensor(archive, "objective_state_names", path));
    std::istringstream split(names);
    std::string name;
    for (int64_t i = 0; std::getline(split, name, '\n'); ++i) {
      ELBO_CHECK(i < state.numel() && state.scalar_type() == torch::kDouble, "checkpoint '", path,
                 "': objective state has ", state.numel(), " values for more names");
      info.objective_state.emplace_back(name, state[i].item<double>());
    }
  }
  return info;
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  torch::serialize::OutputArchive archive;
  Checksum checksum;
  for (const auto& item : model.named_parameters()) {
    ELBO_CHECK_NUMERIC(torch::isfinite(item.value()).all().item<bool>(), "refusing to write checkpoint '", path,
                       "': parameter '", item.key(), "' has non-finite values");
    archive.write("model/" + item.key(), item.value().detach().cpu());
    checksum.add(item.key(), item.value());
  }
  for (const auto& item : model.named_buffers()) {
    archive.write("model/" + item.key(), item.value().cpu(), true);
    checksum.add(item.key(), item.value());
  }
  const torch::Tensor ints = torch::tensor({info.step, info.epoch, info.batch_in_epoch, info.features,
                                            info.image.channels, info.image.height, info.image.width});
  const torch::Tensor config = string_tensor(info.config_toml);
  archive.write("info", ints);
  archive.write("config", config);
  checksum.add("info", ints);
  checksum.add("config", config);
  if (!info.objective_state.empty()) {
    std::string names;
    std::vector<double> values;
    for (const auto& [name, value] : info.objective_state) {
      names += (names.empty() ? "" : "\n") + name;
      values.push_back(value);
    }
    const torch::Tensor state = torch::tensor(values, torch::kDouble);
    archive.write("objective_state", state);
    checksum.add("objective_state", state);
    archive.write("objective_state_names", string_tensor(names));
  }
  archive.write("checksum", torch::tensor({checksum.value()}));
  archive.write("skipped", torch::tensor({info.skipped}));
  if (optimizer) {
    torch::serialize::OutputArchive state;
    optimizer->save(state);
    archive.write("optimizer", state);
  }
  write_file_atomic(path, [&](const ByteSink& write) {  // streamed: no in-memory copy of the checkpoint
    archive.save_to([&](const void* data, size_t size) {
      write(data, size);
      return size;
    });
  });
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  return read_info(archive, path);
}

CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  CheckpointInfo info = read_info(archive, path);
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> restored;  // (target, saved): copied once all are checked
  Checksum checksum;
  auto restore = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor saved;
    ELBO_CHECK(archive.try_read("model/" + name, saved), "checkpoint '", path,
               "' is from a different model: it has no parameter '", name, "'");
    ELBO_CHECK(saved.sizes() == target.sizes(), "checkpoint '", path, "' is from a different model: parameter '", name,
               "' has shape ", saved.sizes(), ", this model expects ", target.sizes());
    ELBO_CHECK(saved.scalar_type() == target.scalar_type(), "checkpoint '", path, "': parameter '", name,
               "' has type ", saved.scalar_type(), ", this model expects ", target.scalar_type());
    checksum.add(name, saved);
    restored.emplace_back(target, saved);
  };
  for (auto& item : model.named_parameters()) restore(item.key(), item.value());
  for (auto& item : model.named_buffers()) restore(item.key(), item.value());
  torch::Tensor stored;
  if (archive.try_read("checksum", stored)) {  // absent in checkpoints written before it existed
    checksum.add("info", read_tensor(archive, "info", path));
    checksum.add("config", read_tensor(archive, "config", path));
    torch::Tensor state;
    if (archive.try_read("objective_state", state)) checksum.add("objective_state", state);
    ELBO_CHECK(stored.numel() == 1 && stored.scalar_type() == torch::kLong &&
                   stored.item<int64_t>() == checksum.value(),
               "checkpoint '", path, "' is corrupt: its contents do not match the checksum stored when it was written");
  }
  for (auto& [target, saved] : restored) target.copy_(saved);
  if (optimizer) {
    torch::serialize::InputArchive state;
    ELBO_CHECK(archive.try_read("optimizer", state), "checkpoint '", path, "' has no optimizer state to resume from");
    optimizer->load(state);
  }
  return info;
}

}  // namespace elbo::train
