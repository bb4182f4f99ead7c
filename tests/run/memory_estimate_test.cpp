// The memory estimate counts, from the config alone, exactly the parameters that
// model::make_model builds, for every family and network kind; and the refusal names both
// numbers and the keys. (Estimate against measured peak RSS: tests/run/memory_estimate_test.sh.)
#include "elbo/run/memory_estimate.h"

#include "elbo/data/modality.h"
#include "elbo/model/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace elbo::run {
namespace {

int64_t built(const Config& c, const data::Schema& schema) {
  int64_t n = 0;
  for (const auto& p : model::make_model(c, schema)->parameters()) n += p.numel();
  return n;
}

Config with(std::initializer_list<const char*> sets) {
  Config c;
  for (const char* s : sets) c.set(s);
  return c;
}

TEST(MemoryEstimate, ParameterCountEqualsTheBuiltModelForEveryFamily) {
  const data::Schema table = data::Schema::of_features(11);
  const data::Schema image = data::Schema::of_features(64, ImageShape{1, 8, 8});
  const data::Schema sequence = data::Schema::of_features(16);
  const std::vector<std::pair<Config, data::Schema>> cases = {
      {with({"model.hidden=[7, 5]", "model.latent_dim=3"}), table},
      {with({"model.hidden=[7]", "model.encoder_hidden=[6, 4]", "model.likelihood=\"gaussian\""}), table},
      {with({"model.hidden=[7]", "model.likelihood=\"laplace\"", "model.likelihood_scale=\"shared\"",
             "model.encoder_mask=true"}), table},
      {with({"model.hidden=[5]", "model.conditional=true", "model.classes=4"}), table},
      {with({"model.encoder=\"conv\"", "model.decoder=\"conv\"", "model.channels=[2, 3]", "model.latent_dim=4"}), image},
      {with({"model.encoder=\"conv\"", "model.decoder=\"mlp\"", "model.channels=[3]", "model.hidden=[6]"}), image},
      {with({"model.encoder=\"conv1d\"", "model.decoder=\"conv1d\"", "model.likelihood=\"categorical\"",
             "model.channels=[4, 3]", "model.kernel=3", "model.latent_dim=2"}), sequence},
      {with({"model.encoder=\"conv1d\"", "model.decoder=\"conv1d\"", "model.likelihood=\"categorical\"",
             "model.channels=[5]", "model.kernel=5", "model.context=3", "model.context_hidden=6"}), sequence},
      {with({"model.type=\"hvae\"", "model.hidden=[6]", "model.latent_dims=[4, 3, 2]"}), table},
      {with({"model.type=\"hvae\"", "model.hidden=[6, 5]", "model.latent_dims=[4, 2]", "model.inference=\"structured\"",
             "model.likelihood=\"gaussian\""}), table},
      {with({"model.type=\"m2\"", "model.hidden=[6]", "model.classes=3", "model.latent_dim=2"}), table},
      {with({"model.type=\"classifier\"", "model.hidden=[6, 4]", "model.classes=5"}), table},
      {with({"model.type=\"bnn\"", "model.hidden=[6]", "model.classes=3"}), table},
      {with({"model.type=\"bnn\"", "model.encoder=\"conv\"", "model.channels=[2, 3]", "model.hidden=[5]",
             "model.classes=3"}), image},
      {with({"model.type=\"bnn\"", "model.hidden=[6, 2]", "model.task=\"regression\"", "data.target_columns=\"a,b\"",
             "model.weights.sampling=\"weights\""}), table},
      {with({"model.type=\"brnn\"", "model.hidden=[5]", "data.format=\"series\"", "data.window=4"}),
       data::Schema::of_features(8)},
      {with({"model.type=\"crystal\"", "model.hidden=[6]", "data.format=\"crystals\"", "data.max_atoms=3"}),
       data::Schema::of_features(7 + 4 * 3)},
  };
  for (const auto& [config, schema] : cases)
    EXPECT_EQ(parameter_count(config, schema), built(config, schema)) << config.to_toml();

  data::Schema multimodal = data::Schema::of_features(9);
  data::Modality a, b;
  a.name = "a", a.begin = 0, a.width = 4, a.likelihood = "gaussian";
  b.name = "b", b.begin = 4, b.width = 5, b.likelihood = "bernoulli", b.hidden = {3};
  multimodal.modalities = {a, b};
  const Config mm = with({"model.type=\"multimodal\"", "model.hidden=[6]", "model.encoder_mask=true"});
  EXPECT_EQ(parameter_count(mm, multimodal), built(mm, multimodal));
}

TEST(MemoryEstimate, TrainingTermsScaleWithTheirKeys) {
  const data::Schema table = data::Schema::of_features(11);
  const Config small = with({"model.hidden=[100]"});
  const MemoryEstimate e = estimate_training_memory(small, table, 1000, 5000);
  ASSERT_EQ(e.parts.size(), 7u);
  EXPECT_EQ(e.parts[0].bytes, 5000);  // baseline as measured
  EXPECT_EQ(e.parts[1].bytes, 1000);  // data as measured
  EXPECT_EQ(e.parts[2].bytes, 4 * e.parameters);
  EXPECT_EQ(e.parts[4].name, "adam");
  EXPECT_EQ(e.parts[4].bytes, 8 * e.parameters);  // Adam's two moments
  EXPECT_EQ(e.parts[6].bytes, 4 * e.parameters);  // transient copies
  EXPECT_EQ(e.total(), e.increment() + 5000);
  // Activations grow with the batch, parameters do not.
  const MemoryEstimate big_batch = estimate_training_memory(with({"model.hidden=[100]", "train.batch_size=1024"}), table, 1000, 5000);
  EXPECT_EQ(big_batch.parameters, e.parameters);
  EXPECT_GT(big_batch.parts[5].bytes, 4 * e.parts[5].bytes);
}

TEST(MemoryEstimate, RefusalNamesBothNumbersAndTheKeys) {
  const data::Schema table = data::Schema::of_features(784);
  const MemoryEstimate e = estimate_training_memory(with({"model.hidden=[400000]"}), table, 0, 0);
  EXPECT_GT(e.increment(), int64_t{10} << 30);  // 652M parameters, 4 copies
  EXPECT_NO_THROW(check_memory(e, AvailableMemory{int64_t{1} << 40, "test"}, "elbo train"));
  EXPECT_NO_THROW(check_memory(e, AvailableMemory{-1, "unknown"}, "elbo train"));
  try {
    check_memory(e, AvailableMemory{int64_t{6} << 30, "a 6 GiB test limit"}, "elbo train");
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("elbo train: not enough memory: the run needs about 1"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("GiB"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("but only 6.00 GiB is available (a 6 GiB test limit)"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("model.hidden"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("train.memory_check = false"));
  }
}

TEST(MemoryEstimate, ProcessMemoryIsRead) {
  EXPECT_GT(resident_bytes(), 0);
  EXPECT_GE(peak_resident_bytes(), resident_bytes());
  const AvailableMemory a = available_memory();
  EXPECT_GT(a.bytes, 0) << a.source;
  EXPECT_FALSE(a.source.empty());
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1.5 * 1024 * 1024), "1.50 MiB");
}

}  // namespace
}  // namespace elbo::run
