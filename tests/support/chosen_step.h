#pragma once
// Which train step the trainer would run for a configuration (tests of the steps' choice).
#include "elbo/core/config.h"
#include "elbo/data/schema.h"
#include "elbo/model/factory.h"
#include "elbo/objective/factory.h"
#include "elbo/train/train_step.h"

#include <string>
#include <vector>

namespace elbo::test {

/// choose_train_step's description ("fused" or "autograd (<why>)") for the model and objective that
/// `settings` make on `train` (its schema with `classes` label classes, `labelled` labelled rows).
inline std::string chosen_step(const std::vector<std::string>& settings, const data::Dataset& train,
                               int64_t classes = 0, int64_t labelled = 0) {
  Config c;
  for (const auto& s : settings) c.set(s);
  auto model = model::make_model(c, data::Schema::of(train, classes));
  auto objective = objective::make_objective(c, train.size(), labelled);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  return train::choose_train_step(*model, *objective, train, adam, true).description;
}

}  // namespace elbo::test
