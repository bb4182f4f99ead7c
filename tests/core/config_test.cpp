#include "elbo/core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using ::testing::HasSubstr;

namespace elbo {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, DefaultsAreTheDefaultModel) {
  Config c;
  EXPECT_EQ(c.get_int("model.latent_dim"), 20);
  EXPECT_EQ(c.get_ints("model.hidden"), std::vector<int64_t>({400}));
  EXPECT_EQ(c.get_string("model.likelihood"), "bernoulli");
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 1e-3);
}

TEST(Config, TomlOverridesDefaults) {
  Config c = Config::from_toml("[train]\nepochs = 3\nlr = 2e-4\n[model]\nhidden = [512, 256]\n");
  EXPECT_EQ(c.get_int("train.epochs"), 3);
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 2e-4);
  EXPECT_EQ(c.get_ints("model.hidden"), std::vector<int64_t>({512, 256}));
  EXPECT_EQ(c.get_int("train.batch_size"), 128);
}

TEST(Config, IntegerAcceptedWhereRealExpected) {
  Config c = Config::from_toml("objective.beta = 4\n");
  EXPECT_DOUBLE_EQ(c.get_double("objective.beta"), 4.0);
}

TEST(Config, SetParsesValuesAndBareWords) {
  Config c;
  c.set("train.epochs=7");
  c.set("model.likelihood = gaussian");
  c.set("model.hidden=[64,32]");
  c.set("data.standardize=true");
  EXPECT_EQ(c.get_int("train.epochs"), 7);
  EXPECT_EQ(c.get_string("model.likelihood"), "gaussian");
  EXPECT_EQ(c.get_ints("model.hidden"), std::vector<int64_t>({64, 32}));
  EXPECT_TRUE(c.get_bool("data.standardize"));
}

TEST(Config, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(error_of([] { Config::from_toml("[train]\nepoch = 3\n", "run.toml"); }),
              HasSubstr("run.toml:2: unknown key 'train.epoch' (did you mean 'train.epochs'?)"));
  EXPECT_THAT(error_of([] { Config().set("model.latnt_dim=3"); }), HasSubstr("did you mean 'model.latent_dim'"));
}

TEST(Config, WrongTypeAndRangeNameTheKey) {
  EXPECT_THAT(error_of([] { Config::from_toml("[train]\nepochs = \"ten\"\n", "c.toml"); }),
              HasSubstr("c.toml:2: key 'train.epochs' must be an integer"));
  EXPECT_THAT(error_of([] { Config().set("objective.beta=-1"); }), HasSubstr("'objective.beta' = -1 is out of range"));
  EXPECT_THAT(error_of([] { Config().set("train.batch_size=0"); }), HasSubstr("train.batch_size"));
  EXPECT_THAT(error_of([] { Config().set("model.latent_dim=0"); }), HasSubstr("model.latent_dim"));
  EXPECT_THAT(error_of([] { Config().set("objective.particles=0"); }), HasSubstr("objective.particles"));
  EXPECT_THAT(error_of([] { Config().set("model.likelihood=gauss"); }), HasSubstr("is not one of: bernoulli"));
}

TEST(Config, ListsMayBeEmptyOnlyWhereTheDefaultIsOrNoLayersMeanLinear) {
  EXPECT_THAT(error_of([] { Config().set("model.channels=[]"); }), HasSubstr("'model.channels' must not be empty"));
  EXPECT_TRUE(Config::from_toml("[model]\nhidden = []\n").get_ints("model.hidden").empty());  // linear maps
  Config c;
  c.set("model.encoder_hidden=[1024, 512]");
  EXPECT_EQ(c.get_ints("model.encoder_hidden"), std::vector<int64_t>({1024, 512}));
  c.set("model.encoder_hidden=[]");
  EXPECT_TRUE(c.get_ints("model.encoder_hidden").empty());
  EXPECT_TRUE(Config::from_toml(c.to_toml()).get_ints("model.encoder_hidden").empty());
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  EXPECT_THAT(error_of([] { Config::from_toml("[train]\nepochs = = 3\n", "bad.toml"); }),
              HasSubstr("bad.toml:2:"));
}

// toml++ 3.3 hits undefined behaviour on some non-ASCII characters in bare keys and values
// (found by fuzz/config_fuzzer); they are refused first. Strings and comments may hold any UTF-8.
TEST(Config, NonAsciiOutsideStringsIsRefusedBeforeTheParser) {
  EXPECT_THAT(error_of([] { Config::from_toml("[train]\nepochs = 3\xc8\x91\n", "u.toml"); }),
              HasSubstr("u.toml:2: non-ASCII byte 0xc8 outside a string or comment"));
  EXPECT_THAT(error_of([] { Config c; c.set("train.device=cp\xc8\x91"); }), HasSubstr("non-ASCII byte 0xc8"));
  Config c = Config::from_toml("# caf\xc3\xa9\n[data]\ndir = \"/d/caf\xc3\xa9\" # \xc3\xa9\n"
                               "train = \'\'\'x\xc3\xa9\ny\'\'\'\n");
  EXPECT_EQ(c.get_string("data.dir"), "/d/caf\xc3\xa9");
  EXPECT_EQ(c.get_string("data.train"), "x\xc3\xa9\ny");
}

TEST(Config, ResolvedTomlRoundTrips) {
  Config c;
  c.set("train.epochs=4");
  c.set("train.lr=0.00031");
  c.set("model.hidden=[12,7]");
  Config back = Config::from_toml(c.to_toml());
  EXPECT_EQ(back.values(), c.values());
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_THAT(error_of([] { Config::from_file("/nonexistent/run.toml"); }), HasSubstr("/nonexistent/run.toml"));
}

}  // namespace
}  // namespace elbo
