#include "elbo/model/vae.h"
#include "elbo/train/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>
#include <fstream>

using ::testing::HasSubstr;

namespace elbo {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()))).string();
}

model::VaeOptions options(int64_t latent) {
  model::VaeOptions o;
  o.features = 10;
  o.latent_dim = latent;
  o.hidden = {6};
  return o;
}

TEST(Checkpoint, RoundTripsWeightsAndInfo) {
  const std::string path = temp_path("ckpt_a");
  torch::manual_seed(0);
  model::Vae a(options(3));
  train::CheckpointInfo info;
  info.step = 42;
  info.epoch = 2;
  info.features = 10;
  info.image = ImageShape{1, 2, 5};
  info.config_toml = "[train]\nepochs = 3\n";
  train::save_checkpoint(path, *a, nullptr, info);
  torch::manual_seed(1);
  model::Vae b(options(3));
  train::CheckpointInfo back = train::load_checkpoint(path, *b, nullptr);
  EXPECT_EQ(back.step, 42);
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.image.width, 5);
  EXPECT_EQ(back.config_toml, info.config_toml);
  for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), b->named_parameters()[p.key()]));
  std::filesystem::remove(path);
}

TEST(Checkpoint, ADifferentModelIsRefusedNamingTheParameter) {
  const std::string path = temp_path("ckpt_b");
  model::Vae a(options(3));
  train::save_checkpoint(path, *a, nullptr, {});
  model::Vae b(options(4));
  try {
    train::load_checkpoint(path, *b, nullptr);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("different model"));
    EXPECT_THAT(e.what(), HasSubstr("encoder.layer1.weight"));
  }
  std::filesystem::remove(path);
}

TEST(Checkpoint, TruncatedFileIsRefusedNamingThePath) {
  const std::string path = temp_path("ckpt_c");
  model::Vae a(options(3));
  train::save_checkpoint(path, *a, nullptr, {});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    model::Vae b(options(3));
    train::load_checkpoint(path, *b, nullptr);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
  }
  std::filesystem::remove(path);
}

TEST(Checkpoint, NonFiniteWeightsAreNeverWritten) {
  const std::string path = temp_path("ckpt_d");
  model::Vae a(options(3));
  train::save_checkpoint(path, *a, nullptr, {});
  const auto size = std::filesystem::file_size(path);
  {
    torch::NoGradGuard g;
    a->parameters()[0].fill_(std::nan(""));
  }
  EXPECT_THROW(train::save_checkpoint(path, *a, nullptr, {}), std::domain_error);
  EXPECT_EQ(std::filesystem::file_size(path), size) << "the previous checkpoint stays";
  std::filesystem::remove(path);
}

TEST(Checkpoint, UnwritableDirectoryIsAClearError) {
  model::Vae a(options(3));
  try {
    train::save_checkpoint("/nonexistent/dir/ckpt.pt", *a, nullptr, {});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/dir/ckpt.pt"));
  }
}

}  // namespace
}  // namespace elbo
