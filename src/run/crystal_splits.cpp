#include "elbo/run/crystal_splits.h"

#include "elbo/core/check.h"
#include "elbo/data/crystal_rows.h"
#include "elbo/data/load.h"

namespace elbo::run {

std::vector<data::Structure> split_structures(const Config& config, const std::string& split) {
  ELBO_CHECK(config.get_string("data.format") == "crystals", "the structures of a split: the run is not a crystal run "
             "(data.format = \"", config.get_string("data.format"), "\", not \"crystals\")");
  ELBO_CHECK(split == "train" || split == "validation" || split == "test", "'", split,
             "' is not a split of a run; valid: train, validation, test");
  const data::Splits s = data::load_data(config);
  const data::Dataset& d = split == "train" ? s.train : split == "validation" ? s.validation : s.test;
  if (d.size() == 0) return {};
  return data::row_structures(config, d.x, split);
}

}  // namespace elbo::run
