// elbo_checkpoint_diff A B [R]: compares the parameters of two checkpoints of the
// same model (each rebuilt from its stored config) and prints
//   max_abs_diff D max_abs M parameters N beyond K
// the largest |a - b| over all weights, the largest |a|, the number of weights,
// and how many of them differ by more than R M (R = 1e-5 unless given). Exit 0,
// or 2 when the checkpoints cannot be read or do not match in shape. A test aid
// (tests/train/data_parallel_test.sh), not part of the CLI.
#include "elbo/core/config.h"
#include "elbo/model/factory.h"
#include "elbo/train/checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>

namespace {

std::shared_ptr<elbo::model::Model> load(const char* path) {
  const elbo::train::CheckpointInfo info = elbo::train::read_checkpoint_info(path);
  const elbo::Config config = elbo::Config::from_toml(info.config_toml, path);
  auto model = elbo::model::make_model(config, info.features, info.image);
  elbo::train::load_checkpoint(path, *model, nullptr);
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: elbo_checkpoint_diff A/checkpoint.pt B/checkpoint.pt [relative_tolerance]\n");
    return 2;
  }
  const double relative = argc == 4 ? std::atof(argv[3]) : 1e-5;
  try {
    auto a = load(argv[1]), b = load(argv[2]);
    const auto pa = a->named_parameters(), pb = b->named_parameters();
    if (pa.size() != pb.size()) throw std::invalid_argument("the checkpoints hold different models");
    double diff = 0, largest = 0;
    int64_t count = 0, beyond = 0;
    for (const auto& item : pa) {
      const torch::Tensor* other = pb.find(item.key());
      if (!other || other->sizes() != item.value().sizes())
        throw std::invalid_argument("parameter '" + item.key() + "' differs in shape or is missing");
      largest = std::max(largest, item.value().abs().max().item<double>());
      count += item.value().numel();
    }
    for (const auto& item : pa) {
      const torch::Tensor gap = (item.value() - pb[item.key()]).abs();
      diff = std::max(diff, gap.max().item<double>());
      beyond += (gap > relative * largest).sum().item<int64_t>();
    }
    std::printf("max_abs_diff %.9g max_abs %.9g parameters %lld beyond %lld\n", diff, largest,
                static_cast<long long>(count), static_cast<long long>(beyond));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "elbo_checkpoint_diff: %s\n", e.what());
    return 2;
  }
}
