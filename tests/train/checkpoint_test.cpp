#include "elbo/model/vae.h"
#include "elbo/train/checkpoint.h"

#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <functional>
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

/// A Vae and an Adam that has taken steps (so it has moment estimates to save).
struct Trained {
  model::Vae vae{options(3)};
  torch::optim::Adam adam{vae->parameters(), torch::optim::AdamOptions(1e-2)};
  Trained() { step(); }
  void step() {
    adam.zero_grad();
    torch::Tensor loss = torch::zeros({});
    for (const auto& p : vae->parameters()) loss = loss + (p - 0.5).square().sum();
    loss.backward();
    adam.step();
  }
};

/// Rewrites the checkpoint at `path` entry by entry: `edit` may change an entry's tensor and
/// returns whether to keep it. The stored checksum stays as written: what bytes changed on disk
/// look like to the reader.
void rewrite(const std::string& path, const std::function<bool(const std::string&, torch::Tensor&)>& edit) {
  torch::serialize::InputArchive in;
  in.load_from(path);
  torch::serialize::OutputArchive out;
  for (const std::string& name : in.keys()) {
    torch::Tensor t;
    ASSERT_TRUE(in.try_read(name, t)) << name;
    t = t.clone();
    if (edit(name, t)) out.write(name, t, /*is_buffer=*/true);
  }
  out.save_to(path);
}

TEST(Checkpoint, RoundTripsTheOptimizerState) {
  const std::string path = temp_path("ckpt_adam");
  torch::manual_seed(0);
  Trained a;
  a.step();
  train::save_checkpoint(path, *a.vae, &a.adam, {});
  Trained b;  // other weights, other moments
  train::load_checkpoint(path, *b.vae, &b.adam);
  a.step(), b.step();  // the same step from the same moments and step count: the same weights
  const auto pa = a.vae->parameters(), pb = b.vae->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
  std::filesystem::remove(path);
}

/// Every entry a resume reads is covered by the checksum: a changed byte in any is refused.
TEST(Checkpoint, ACorruptEntryIsRefusedWhateverItHolds) {
  const std::string path = temp_path("ckpt_corrupt");
  Trained a;
  train::CheckpointInfo info;
  info.config_toml = "[train]\nepochs = 3\n";
  info.skipped = 2;
  info.objective_state = {{"lambda", 1.5}};
  const std::string weight = "model/" + a.vae->named_parameters().keys().back();
  for (const std::string& key : {"adam/" + a.vae->named_parameters().keys().front() + "/exp_avg_sq", std::string("skipped"), std::string("objective_state"),
                                 std::string("info"), std::string("config"), weight}) {
    train::save_checkpoint(path, *a.vae, &a.adam, info);
    bool found = false;
    rewrite(path, [&](const std::string& name, torch::Tensor& t) {
      if (name == key) {
        static_cast<uint8_t*>(t.data_ptr())[t.numel() * t.element_size() / 2] ^= 0x40;
        found = true;
      }
      return true;
    });
    ASSERT_TRUE(found) << "no entry '" << key << "'";
    Trained b;
    try {
      train::load_checkpoint(path, *b.vae, &b.adam);
      ADD_FAILURE() << "a corrupt '" << key << "' was loaded";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("checkpoint '" + path + "' is corrupt")) << key;
    }
    EXPECT_THROW(train::read_checkpoint_info(path), std::invalid_argument) << key;
  }
  std::filesystem::remove(path);
}

TEST(Checkpoint, OneWithoutAChecksumIsRefused) {
  const std::string path = temp_path("ckpt_unchecked");
  Trained a;
  train::save_checkpoint(path, *a.vae, nullptr, {});
  // The same entries without "checksum", as elbo wrote before format 1.
  rewrite(path, [](const std::string& name, torch::Tensor&) { return name != "checksum"; });
  try {
    train::load_checkpoint(path, *a.vae, nullptr);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("checkpoint '" + path + "' has no format 2 checksum"));
  }
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
