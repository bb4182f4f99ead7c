#include "elbo/train/checkpoint.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/error_message.h"
#include "elbo/train/adam_step.h"
#include "elbo/train/archive_check.h"

#include <torch/serialize.h>

#include <zlib.h>

#include <algorithm>
#include <map>
#include <sstream>
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

/// Checkpoint format 2: every entry is a tensor (Adam's state per parameter by name, so equal
/// states give equal bytes; LibTorch's own optimizer archive orders it by tensor addresses), and
/// "checksum" holds the CRC-32 of all the others, names and bytes in name order: everything a
/// resume reads is verified (LibTorch's archive reader does not check its own CRCs, so a flipped
/// byte would load silently). Older checkpoints (no "format" entry; format 1 left the optimizer
/// state unchecked) are refused.
constexpr int64_t kFormat = 2;

/// CRC-32 over names and bytes of tensors.
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

/// Whether every element of `t` lies inside its storage. The pickle gives each tensor's offset,
/// sizes and strides, and LibTorch's reader does not check them against the storage's record.
bool inside_storage(const torch::Tensor& t) {
  if (t.numel() == 0) return true;
  __int128 lowest = t.storage_offset(), highest = lowest;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const __int128 reach = static_cast<__int128>(t.size(d) - 1) * t.stride(d);
    (reach < 0 ? lowest : highest) += reach;
  }
  return lowest >= 0 && (highest + 1) * static_cast<__int128>(t.element_size()) <=
                            static_cast<__int128>(t.storage().nbytes());
}

/// Checks the format and the checksum over every entry; no entry is read before its extent is checked.
void verify(torch::serialize::InputArchive& archive, const std::string& path) {
  const auto check_extent = [&](const std::string& key, const torch::Tensor& t) {
    ELBO_CHECK(inside_storage(t), "checkpoint '", path, "' is corrupt: entry '", key, "' (shape ", t.sizes(),
               ", strides ", t.strides(), ", offset ", t.storage_offset(), ") reaches beyond its storage of ",
               t.storage().nbytes(), " bytes");
  };
  torch::Tensor format, stored;
  ELBO_CHECK(archive.try_read("format", format) && archive.try_read("checksum", stored), "checkpoint '", path,
             "' has no format ", kFormat, " checksum (an elbo older than format ", kFormat,
             " wrote it, or it is not an elbo checkpoint) and cannot be verified; train the run again");
  check_extent("format", format);
  check_extent("checksum", stored);
  ELBO_CHECK(format.numel() == 1 && format.scalar_type() == torch::kLong && format.item<int64_t>() == kFormat,
             "checkpoint '", path, "' has format ", format.numel() == 1 ? format.item<int64_t>() : -1,
             "; this elbo reads format ", kFormat, " (a newer elbo wrote it?)");
  ELBO_CHECK(stored.numel() == 1 && stored.scalar_type() == torch::kLong, "checkpoint '", path,
             "': entry 'checksum' must be one int64");
  std::vector<std::string> keys = archive.keys();
  std::sort(keys.begin(), keys.end());
  Checksum checksum;
  for (const std::string& key : keys) {
    if (key == "checksum") continue;
    torch::Tensor t;
    ELBO_CHECK(archive.try_read(key, t), "checkpoint '", path, "': entry '", key, "' is not a tensor");
    check_extent(key, t);
    checksum.add(key, t);
  }
  ELBO_CHECK(stored.item<int64_t>() == checksum.value(), "checkpoint '", path,
             "' is corrupt: its contents do not match the checksum stored when it was written");
}

/// Runs `read` on a checkpoint from anyone: whatever LibTorch's reader or a tensor operation
/// throws at malformed contents (c10::Error, std::out_of_range from its unpickler, ...) becomes
/// std::invalid_argument naming the file, as every other refusal of bad input is.
template <class Read>
auto guarded(const std::string& path, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const c10::OutOfMemoryError&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(detail::concat("checkpoint '", path, "' is malformed: ", message_of(e)));
  }
}

/// Opens and verifies a checkpoint.
void open(torch::serialize::InputArchive& archive, const std::string& path) {
  std::string bytes = read_file(path);
  check_torch_archive(bytes, path);  // LibTorch's reader trusts the sizes it finds in the file
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const std::exception& e) {  // c10::Error, and std::out_of_range & co. from the unpickler
    throw std::invalid_argument(detail::concat("checkpoint '", path, "' is truncated or corrupt (", bytes.size(),
                                               " bytes): ", message_of(e)));
  }
  verify(archive, path);
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
  const torch::Tensor skipped = read_tensor(archive, "skipped", path);
  ELBO_CHECK(skipped.numel() == 1 && skipped.scalar_type() == torch::kLong, "checkpoint '", path,
             "': entry 'skipped' must be one int64");
  info.skipped = skipped.item<int64_t>();
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

/// Restores Adam's state per parameter and each group's learning rate (see save_checkpoint).
void restore_adam(torch::serialize::InputArchive& archive, const std::string& path, const torch::nn::Module& model,
                  torch::optim::Adam& optimizer) {
  torch::Tensor lr = read_tensor(archive, "adam/lr", path);
  ELBO_CHECK(lr.scalar_type() == torch::kDouble && lr.numel() == static_cast<int64_t>(optimizer.param_groups().size()),
             "checkpoint '", path, "' has no optimizer state to resume from, or one of another optimizer");
  for (size_t g = 0; g < optimizer.param_groups().size(); ++g)
    static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[g].options()).lr(lr[g].item<double>());
  optimizer.state().clear();
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    const std::string prefix = "adam/" + item.key() + "/";
    torch::Tensor step;
    if (!archive.try_read(prefix + "step", step)) continue;  // no step taken yet
    torch::optim::AdamParamState& state = adam_state(optimizer, item.value());
    state.step(step.item<int64_t>());
    auto moment = [&](const std::string& name) {
      const torch::Tensor saved = read_tensor(archive, prefix + name, path);
      ELBO_CHECK(saved.sizes() == item.value().sizes(), "checkpoint '", path, "': Adam's ", name, " of '", item.key(),
                 "' has shape ", saved.sizes(), ", the parameter ", item.value().sizes());
      return saved.to(item.value().options()).contiguous();
    };
    state.exp_avg(moment("exp_avg"));
    state.exp_avg_sq(moment("exp_avg_sq"));
    torch::Tensor max_sq;
    if (archive.try_read(prefix + "max_exp_avg_sq", max_sq)) state.max_exp_avg_sq(moment("max_exp_avg_sq"));
  }
}

CheckpointInfo load_verified(const std::string& path, torch::nn::Module& model, torch::optim::Adam* optimizer) {
  torch::serialize::InputArchive archive;
  open(archive, path);
  CheckpointInfo info = read_info(archive, path);
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> restored;  // (target, saved): copied once all are checked
  auto restore = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor saved;
    ELBO_CHECK(archive.try_read("model/" + name, saved), "checkpoint '", path,
               "' is from a different model: it has no parameter '", name, "'");
    ELBO_CHECK(saved.sizes() == target.sizes(), "checkpoint '", path, "' is from a different model: parameter '", name,
               "' has shape ", saved.sizes(), ", this model expects ", target.sizes());
    ELBO_CHECK(saved.scalar_type() == target.scalar_type(), "checkpoint '", path, "': parameter '", name,
               "' has type ", saved.scalar_type(), ", this model expects ", target.scalar_type());
    restored.emplace_back(target, saved);
  };
  for (auto& item : model.named_parameters()) restore(item.key(), item.value());
  for (auto& item : model.named_buffers()) restore(item.key(), item.value());
  for (auto& [target, saved] : restored) target.copy_(saved);
  if (optimizer) restore_adam(archive, path, model, *optimizer);
  return info;
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Adam* optimizer,
                     const CheckpointInfo& info) {
  std::map<std::string, torch::Tensor> entries;  // in name order, the checksum's order
  for (const auto& item : model.named_parameters()) {
    ELBO_CHECK_NUMERIC(torch::isfinite(item.value()).all().item<bool>(), "refusing to write checkpoint '", path,
                       "': parameter '", item.key(), "' has non-finite values");
    entries["model/" + item.key()] = item.value().detach().cpu();
  }
  for (const auto& item : model.named_buffers()) entries["model/" + item.key()] = item.value().detach().cpu();
  entries["format"] = torch::tensor({kFormat});
  entries["info"] = torch::tensor({info.step, info.epoch, info.batch_in_epoch, info.features, info.image.channels,
                                   info.image.height, info.image.width});
  entries["config"] = string_tensor(info.config_toml);
  entries["skipped"] = torch::tensor({info.skipped});
  if (!info.objective_state.empty()) {
    std::string names;
    std::vector<double> values;
    for (const auto& [name, value] : info.objective_state) {
      names += (names.empty() ? "" : "\n") + name;
      values.push_back(value);
    }
    entries["objective_state"] = torch::tensor(values, torch::kDouble);
    entries["objective_state_names"] = string_tensor(names);
  }
  if (optimizer) {
    for (const auto& item : model.named_parameters()) {
      const torch::optim::AdamParamState* state = find_adam_state(*optimizer, item.value());
      if (!state) continue;  // no step taken yet
      const std::string prefix = "adam/" + item.key() + "/";
      entries[prefix + "step"] = torch::tensor({static_cast<int64_t>(state->step())});
      entries[prefix + "exp_avg"] = state->exp_avg().detach().cpu();
      entries[prefix + "exp_avg_sq"] = state->exp_avg_sq().detach().cpu();
      if (state->max_exp_avg_sq().defined()) entries[prefix + "max_exp_avg_sq"] = state->max_exp_avg_sq().detach().cpu();
    }
    std::vector<double> lr;
    for (const auto& group : optimizer->param_groups())
      lr.push_back(static_cast<const torch::optim::AdamOptions&>(group.options()).lr());
    entries["adam/lr"] = torch::tensor(lr, torch::kDouble);
  }
  torch::serialize::OutputArchive archive;
  Checksum checksum;
  for (const auto& [name, tensor] : entries) {
    archive.write(name, tensor, /*is_buffer=*/true);
    checksum.add(name, tensor);
  }
  archive.write("checksum", torch::tensor({checksum.value()}), /*is_buffer=*/true);
  write_file_atomic(path, [&](const ByteSink& write) {  // streamed: no in-memory copy of the checkpoint
    archive.save_to([&](const void* data, size_t size) {
      write(data, size);
      return size;
    });
  });
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  return guarded(path, [&] {
    torch::serialize::InputArchive archive;
    open(archive, path);
    return read_info(archive, path);
  });
}

CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Adam* optimizer) {
  return guarded(path, [&] { return load_verified(path, model, optimizer); });
}

}  // namespace elbo::train
