#include "elbo/train/checkpoint.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"

#include <torch/serialize.h>

#include <sstream>

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
  ELBO_CHECK(ints.numel() == 7, "checkpoint '", path, "': info block has ", ints.numel(), " entries, expected 7");
  auto v = ints.accessor<int64_t, 1>();
  CheckpointInfo info;
  info.step = v[0];
  info.epoch = v[1];
  info.batch_in_epoch = v[2];
  info.features = v[3];
  info.image = ImageShape{v[4], v[5], v[6]};
  info.config_toml = tensor_string(read_tensor(archive, "config", path));
  return info;
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  torch::serialize::OutputArchive archive;
  for (const auto& item : model.named_parameters()) {
    ELBO_CHECK_NUMERIC(torch::isfinite(item.value()).all().item<bool>(), "refusing to write checkpoint '", path,
                       "': parameter '", item.key(), "' has non-finite values");
    archive.write("model/" + item.key(), item.value().detach().cpu());
  }
  for (const auto& item : model.named_buffers()) archive.write("model/" + item.key(), item.value().cpu(), true);
  archive.write("info", torch::tensor({info.step, info.epoch, info.batch_in_epoch, info.features, info.image.channels,
                                       info.image.height, info.image.width}));
  archive.write("config", string_tensor(info.config_toml));
  if (optimizer) {
    torch::serialize::OutputArchive state;
    optimizer->save(state);
    archive.write("optimizer", state);
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
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
  auto restore = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor saved;
    ELBO_CHECK(archive.try_read("model/" + name, saved), "checkpoint '", path,
               "' is from a different model: it has no parameter '", name, "'");
    ELBO_CHECK(saved.sizes() == target.sizes(), "checkpoint '", path, "' is from a different model: parameter '", name,
               "' has shape ", saved.sizes(), ", this model expects ", target.sizes());
    target.copy_(saved);
  };
  for (auto& item : model.named_parameters()) restore(item.key(), item.value());
  for (auto& item : model.named_buffers()) restore(item.key(), item.value());
  if (optimizer) {
    torch::serialize::InputArchive state;
    ELBO_CHECK(archive.try_read("optimizer", state), "checkpoint '", path, "' has no optimizer state to resume from");
    optimizer->load(state);
  }
  return info;
}

}  // namespace elbo::train
