#include "elbo/model/vae.h"
#include "elbo/train/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
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

TEST(Checkpoint, AFullDiskLeavesThePreviousCheckpointIntact) {
  // The disk "fills up" mid-write: RLIMIT_FSIZE caps file sizes below the checkpoint's
  // size, and SIGXFSZ is ignored so write() fails with EFBIG instead of killing us.
  const std::string path = temp_path("ckpt_full");
  model::VaeOptions big = options(3);
  big.hidden = {200};
  model::Vae a(big);
  train::save_checkpoint(path, *a, nullptr, {});
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(good.size(), 16000u);
  {
    torch::NoGradGuard g;
    a->parameters()[0].add_(1.0);
  }
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit capped = old;
  capped.rlim_cur = 8192;
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &capped), 0);
  std::string message;
  try {
    train::save_checkpoint(path, *a, nullptr, {});
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_THAT(message, HasSubstr("cannot write '" + path + "'"));
  EXPECT_THAT(message, HasSubstr("File too large"));
  std::ifstream again(path, std::ios::binary);
  const std::string now((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(now == good) << "the previous checkpoint must be intact";
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_EQ(entry.path().string().rfind(path + ".tmp", 0), std::string::npos) << "left behind: " << entry.path();
  model::Vae b(big);
  EXPECT_NO_THROW(train::load_checkpoint(path, *b, nullptr));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace elbo
