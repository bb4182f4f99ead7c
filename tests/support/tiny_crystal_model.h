#pragma once
// An untrained crystal VAE small enough for unit tests (seeded), and the config of a crystal run
// of that width: for tests of what a crystal run writes (samples, reports, validity).
#include "elbo/core/config.h"
#include "elbo/model/crystal_vae.h"

#include <string>

namespace elbo::test {

inline model::CrystalVae tiny_crystal_model(int64_t max_atoms, uint64_t seed) {
  torch::manual_seed(seed);
  model::CrystalVaeOptions o;
  o.max_atoms = max_atoms;
  o.latent_dim = 3;
  o.hidden = {16};
  o.species_embedding = 4;
  o.harmonics = 2;
  model::CrystalVae model(o);
  model->eval();
  return model;
}

inline Config crystal_run_config(int64_t max_atoms) {
  Config c;
  c.set("data.format=\"crystals\"");
  c.set("model.type=\"crystal\"");
  c.set("data.max_atoms=" + std::to_string(max_atoms));
  return c;
}

}  // namespace elbo::test
