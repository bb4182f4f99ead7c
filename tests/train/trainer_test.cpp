// End-to-end training on a slice of Fashion-MNIST: the ELBO improves, and a
// resumed run reproduces an uninterrupted one exactly.
#include "elbo/core/atomic_file.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/train/trainer.h"
#include "support/installed_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <unistd.h>

namespace elbo {
namespace {

const char* kFashion = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

Config small_config() {
  Config c;
  c.set("data.max_train=1200");
  c.set("data.max_test=200");
  c.set("data.validation=200");
  c.set("model.hidden=[64]");
  c.set("model.latent_dim=8");
  c.set("train.batch_size=50");
  c.set("train.epochs=2");
  c.set("train.log_every=5");
  return c;
}

struct TrainingRun {
  std::shared_ptr<model::Model> model;
  std::shared_ptr<objective::Objective> objective;
  std::unique_ptr<train::Trainer> trainer;
};

TrainingRun make_run(const Config& c, const std::string& checkpoint) {
  seed_stream(static_cast<uint64_t>(c.get_int("train.seed")), RngStream::init);
  TrainingRun r;
  r.model = model::make_model(c, 784, ImageShape{1, 28, 28});
  train::TrainerOptions o = train::TrainerOptions::from_config(c);
  o.checkpoint_path = checkpoint;
  r.objective = objective::make_objective(c, 1000);
  r.trainer = std::make_unique<train::Trainer>(r.model, r.objective, o);
  return r;
}

struct Recorder : train::Callback {
  std::vector<train::EpochRecord> epochs;
  int64_t stop_at_batch = -1;
  train::Trainer* trainer = nullptr;
  void on_epoch(const train::EpochRecord& r) override { epochs.push_back(r); }
  void on_batch(int64_t, int64_t batch, int64_t) override {
    if (batch == stop_at_batch) trainer->request_stop();
  }
  std::vector<int64_t> checkpoints, skipped;
  int64_t crash_at_step = -1;  // throws after this step's checkpoint, like a SIGKILL
  void on_checkpoint(const std::string&, int64_t step) override { checkpoints.push_back(step); }
  void on_skipped_step(int64_t step, const std::string&) override { skipped.push_back(step); }
  void on_step(const train::StepRecord& r) override {
    if (r.step == crash_at_step) throw std::runtime_error("killed");
  }
};

bool all_finite(model::Model& m) {
  for (const auto& p : m.parameters())
    if (!torch::isfinite(p).all().item<bool>()) return false;
  return true;
}

void expect_same_parameters(model::Model& a, model::Model& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ELBO_REQUIRE_INSTALLED(kFashion, "dataset-fashion-mnist");
    dir_ = std::filesystem::temp_directory_path() / ("elbo_trainer_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    data_ = data::load_data(small_config());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  data::Splits data_;
};

TEST_F(TrainerTest, ElboImproves) {
  Config c = small_config();
  c.set("train.epochs=3");
  TrainingRun run = make_run(c, "");
  Recorder rec;
  run.trainer->fit(data_.train, data_.validation, &rec);
  ASSERT_EQ(rec.epochs.size(), 3u);
  EXPECT_GT(rec.epochs[2].valid_elbo, rec.epochs[0].valid_elbo + 5) << "validation ELBO should rise by several nats";
  EXPECT_GT(rec.epochs[2].elbo, rec.epochs[0].elbo);
  EXPECT_EQ(run.trainer->step(), 3 * (1000 / 50));
}

TEST_F(TrainerTest, ResumeAfterAnEpochReproducesTheUninterruptedRun) {
  Config c = small_config();
  c.set("data.binarize=dynamic");  // random data draws must replay too
  TrainingRun straight = make_run(c, "");
  straight.trainer->fit(data_.train, data_.validation);

  const std::string ckpt = (dir_ / "a.pt").string();
  Config one = c;
  one.set("train.epochs=1");
  TrainingRun first = make_run(one, ckpt);
  first.trainer->fit(data_.train, data_.validation);

  TrainingRun resumed = make_run(c, ckpt);
  resumed.trainer->resume(ckpt);
  EXPECT_EQ(resumed.trainer->epoch(), 1);
  resumed.trainer->fit(data_.train, data_.validation);
  expect_same_parameters(*straight.model, *resumed.model);
}

TEST_F(TrainerTest, StopMidEpochThenResumeReproducesTheUninterruptedRun) {
  Config c = small_config();
  TrainingRun straight = make_run(c, "");
  straight.trainer->fit(data_.train, data_.validation);

  const std::string ckpt = (dir_ / "b.pt").string();
  TrainingRun stopped = make_run(c, ckpt);
  Recorder rec;
  rec.trainer = stopped.trainer.get();
  rec.stop_at_batch = 7;
  stopped.trainer->fit(data_.train, data_.validation, &rec);
  EXPECT_TRUE(stopped.trainer->stopped_early());
  EXPECT_EQ(stopped.trainer->step(), 7);

  TrainingRun resumed = make_run(c, ckpt);
  resumed.trainer->resume(ckpt);
  resumed.trainer->fit(data_.train, data_.validation);
  expect_same_parameters(*straight.model, *resumed.model);
}

TEST_F(TrainerTest, GecoMultiplierIsCheckpointedAndResumesExactly) {
  Config c = small_config();
  c.set("objective.type=geco");
  c.set("objective.geco_target=230");
  c.set("objective.geco_rate=0.01");
  TrainingRun straight = make_run(c, "");
  straight.trainer->fit(data_.train, data_.validation);
  const double lambda = straight.objective->state().at(0).second;
  EXPECT_NE(lambda, 1.0) << "the multiplier must move";

  const std::string ckpt = (dir_ / "g.pt").string();
  TrainingRun stopped = make_run(c, ckpt);
  Recorder rec;
  rec.trainer = stopped.trainer.get();
  rec.stop_at_batch = 13;
  stopped.trainer->fit(data_.train, data_.validation, &rec);
  ASSERT_EQ(train::read_checkpoint_info(ckpt).objective_state, stopped.objective->state());

  TrainingRun resumed = make_run(c, ckpt);
  resumed.trainer->resume(ckpt);
  resumed.trainer->fit(data_.train, data_.validation);
  expect_same_parameters(*straight.model, *resumed.model);
  EXPECT_EQ(resumed.objective->state(), straight.objective->state());
}

TEST_F(TrainerTest, NonFiniteLossStopsNamingTheStepAndKeepsTheCheckpoint) {
  Config c = small_config();
  const std::string ckpt = (dir_ / "c.pt").string();
  Config one = c;
  one.set("train.epochs=1");
  TrainingRun first = make_run(one, ckpt);
  first.trainer->fit(data_.train, data_.validation);
  const std::string good = read_file(ckpt);

  // Poison every training example: the first step after the checkpoint fails.
  data::Dataset poisoned = data_.train;
  poisoned.x = data::float_features(poisoned.x).clone();  // stored as uint8; NaN needs float
  poisoned.x.index_put_({torch::indexing::Slice(), 0}, std::nan(""));
  TrainingRun resumed = make_run(c, ckpt);
  resumed.trainer->resume(ckpt);
  try {
    resumed.trainer->fit(poisoned, data_.validation);
    FAIL() << "a NaN input must stop training";
  } catch (const std::domain_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("non-finite loss (nan) at step 21 (epoch 2, batch 1 of 20)"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("the last good checkpoint '" + ckpt + "' is kept"));
  }
  EXPECT_EQ(read_file(ckpt), good) << "the checkpoint must be untouched";
}

TEST_F(TrainerTest, PeriodicCheckpointsLetAKilledRunResumeExactly) {
  Config c = small_config();  // 20 batches per epoch, 2 epochs
  c.set("train.checkpoint_every=7");
  TrainingRun straight = make_run(c, "");
  straight.trainer->fit(data_.train, data_.validation);

  const std::string ckpt = (dir_ / "p.pt").string();
  TrainingRun killed = make_run(c, ckpt);
  Recorder rec;
  rec.crash_at_step = 25;  // 20 = end of epoch 1, log_every = 5
  EXPECT_THROW(killed.trainer->fit(data_.train, data_.validation, &rec), std::runtime_error);
  EXPECT_EQ(rec.checkpoints, (std::vector<int64_t>{7, 14, 20, 21}));  // 20 = end of epoch 1
  EXPECT_EQ(train::read_checkpoint_info(ckpt).step, 21);

  TrainingRun resumed = make_run(c, ckpt);
  resumed.trainer->resume(ckpt);
  Recorder rec2;
  resumed.trainer->fit(data_.train, data_.validation, &rec2);
  EXPECT_EQ(rec2.checkpoints, (std::vector<int64_t>{28, 35, 40}));
  expect_same_parameters(*straight.model, *resumed.model);

  // Killed later: resumes from the periodic checkpoint at step 28 (epoch 2, batch 8).
  TrainingRun again = make_run(c, ckpt);
  Recorder rec3;
  rec3.crash_at_step = 30;
  EXPECT_THROW(again.trainer->fit(data_.train, data_.validation, &rec3), std::runtime_error);
  EXPECT_EQ(train::read_checkpoint_info(ckpt).step, 28);
  EXPECT_EQ(train::read_checkpoint_info(ckpt).batch_in_epoch, 8);
  TrainingRun resumed2 = make_run(c, ckpt);
  resumed2.trainer->resume(ckpt);
  resumed2.trainer->fit(data_.train, data_.validation);
  expect_same_parameters(*straight.model, *resumed2.model);
}

TEST_F(TrainerTest, AnInjectedNanLossStopsAtThatStepByDefault) {
  Config c = small_config();
  c.set("train.inject_nan_step=13");
  const std::string ckpt = (dir_ / "n.pt").string();
  c.set("train.checkpoint_every=10");
  TrainingRun run = make_run(c, ckpt);
  try {
    run.trainer->fit(data_.train, data_.validation);
    FAIL() << "the injected NaN must stop training";
  } catch (const std::domain_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("non-finite loss (nan) at step 13 (epoch 1, batch 13 of 20)"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("the last good checkpoint '" + ckpt + "' is kept"));
  }
  EXPECT_EQ(run.trainer->step(), 12);
  EXPECT_EQ(train::read_checkpoint_info(ckpt).step, 10);
}

TEST_F(TrainerTest, ANonFiniteGradientIsDetectedAtItsStepWithoutClipping) {
  Config c = small_config();
  ASSERT_EQ(c.get_double("train.grad_clip"), 0.0);
  TrainingRun run = make_run(c, "");
  train::TrainerOptions o = train::TrainerOptions::from_config(c);
  o.inject_nan_gradient_step = 9;
  train::Trainer trainer(run.model, objective::make_objective(c), o);
  try {
    trainer.fit(data_.train, data_.validation);
    FAIL() << "a NaN gradient must stop training";
  } catch (const std::domain_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("non-finite gradient norm (nan) at step 9 (epoch 1, batch 9 of 20)"));
  }
  EXPECT_TRUE(all_finite(*run.model)) << "the NaN gradient must not reach the weights";
}

TEST_F(TrainerTest, TheSkipPolicySkipsNonFiniteStepsAndKeepsCount) {
  Config c = small_config();
  c.set("train.nonfinite=skip");
  c.set("train.inject_nan_step=13");
  const std::string ckpt = (dir_ / "s.pt").string();
  TrainingRun run = make_run(c, ckpt);
  train::TrainerOptions o = train::TrainerOptions::from_config(c);
  o.checkpoint_path = ckpt;
  o.inject_nan_gradient_step = 25;
  train::Trainer trainer(run.model, objective::make_objective(c), o);
  Recorder rec;
  trainer.fit(data_.train, data_.validation, &rec);
  EXPECT_EQ(rec.skipped, (std::vector<int64_t>{13, 25}));
  EXPECT_EQ(trainer.skipped_steps(), 2);
  EXPECT_EQ(trainer.step(), 40) << "a skipped step still consumes its batch";
  ASSERT_EQ(rec.epochs.size(), 2u);
  EXPECT_TRUE(std::isfinite(rec.epochs[1].elbo));
  EXPECT_TRUE(all_finite(*run.model));
  EXPECT_EQ(train::read_checkpoint_info(ckpt).skipped, 2) << "the count survives a resume";
}

TEST_F(TrainerTest, TheSkipPolicyStopsOnceMoreThanMaxSkippedStepsWereSkipped) {
  Config c = small_config();
  c.set("train.nonfinite=skip");
  c.set("train.max_skipped=0");
  c.set("train.inject_nan_step=4");
  TrainingRun run = make_run(c, "");
  try {
    run.trainer->fit(data_.train, data_.validation);
    FAIL() << "more skipped steps than train.max_skipped must stop training";
  } catch (const std::domain_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("non-finite loss (nan) at step 4"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("1 steps with non-finite values were skipped, more than train.max_skipped = 0"));
  }
}

}  // namespace

TEST_F(TrainerTest, HandWrittenStepTrainsLikeTheAutogradPath) {
  // Two epochs (48 Adam steps) of the default kind of model both ways: the
  // parameters agree to float32 rounding, amplified a little by Adam's
  // normalization, and both moved far from where they started.
  Config c = small_config();
  c.set("train.fused=false");
  TrainingRun autograd = make_run(c, "");
  const auto start = autograd.model->parameters().front().clone();
  autograd.trainer->fit(data_.train, data_.validation);
  c.set("train.fused=true");
  TrainingRun fused = make_run(c, "");
  fused.trainer->fit(data_.train, data_.validation);
  EXPECT_EQ(autograd.trainer->train_step(), "autograd (train.fused = false)");
  EXPECT_EQ(fused.trainer->train_step(), "fused");  // the comparison is of the two steps
  auto pa = autograd.model->named_parameters(), pf = fused.model->named_parameters();
  for (const auto& item : pa) {
    const double diff = (item.value() - pf[item.key()]).abs().max().item<double>();
    EXPECT_LT(diff, 1e-3) << item.key();
  }
  EXPECT_GT((autograd.model->parameters().front() - start).abs().max().item<double>(), 0.02);
}

}  // namespace elbo
