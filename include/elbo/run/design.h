#pragma once
// elbo design: inverse design in a trained run's latent space. A property head p(c | z) is fitted on
// encoded training examples (diag/property_head.h), codes are moved toward the property
// (diag/inverse_design.h) and decoded, and the decoded designs are measured: the exact property
// (DNA: diag/sequence_property.h), the head's prediction, the model's bits per base and the
// distance to the nearest training window.
#include "elbo/core/json.h"
#include "elbo/diag/inverse_design.h"
#include "elbo/run/run_directory.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace elbo::run {

/// What to design.
struct DesignRequest {
  std::string property;          ///< DNA: "gc" or "motif:ACGT..."; crystals: "volume_per_atom", "number_density",
                                 ///< "mass_density";
                                 ///< other data: a column of data.target_columns
  bool maximize = false;         ///< "max": maximize the predicted property, else reach `target`
  double target = NAN;           ///< the value wanted, in the property's units
  int64_t n = 64;                ///< designs
  int64_t steps = 300;           ///< Adam steps on the codes
  double lr = 0.05;              ///< Adam's learning rate on the codes
  std::string start = "prior";   ///< "prior": z ~ sample_prior(n); "encoded": E_q[z | x] of n random training examples
  uint64_t seed = 1;             ///< every draw: the head's training subset, starts, decoding, reference windows
  int64_t max_fit = 20000;       ///< training examples (at most) the head is fitted on
  std::string fit = "auto";      ///< the head's pairs (z, c): "encoded": z = E_q[z | x] of training examples, c
                                 ///< their property; "decoded": those codes and as many prior draws z ~ p(z), c
                                 ///< the exact property of z decoded as the designs are (what the decoder makes
                                 ///< of z, not what the encoder saw; needs an oracle: crystal and DNA runs);
                                 ///< "auto": decoded for crystal runs, encoded otherwise
  std::string dims = "auto";     ///< the dimensions the search moves: "all"; "active": the active units
                                 ///< (Var_x E_q[z_i | x] > 0.01 over the head's encoded examples, Burda et al.
                                 ///< 2016), the others held at their start; "auto": active for crystal runs
  int64_t k = 100;               ///< importance samples of each sequence's bound (bits per base)
  diag::PropertyHeadOptions head;  ///< the head's fit (its seed is replaced by `seed`)
};

/// One group of n examples, measured alike.
struct DesignGroup {
  torch::Tensor codes;      ///< [n, D]
  torch::Tensor x;          ///< [n, L] base indices (DNA: one draw of p(x | z), or the training windows) or [n, F] means
  torch::Tensor property;   ///< [n] the exact property (DNA; the training examples' targets), else undefined
  torch::Tensor predicted;  ///< [n] the head's f(z) at the codes
  torch::Tensor bits;       ///< [n] DNA: -ELBO in bits per known base (K = request.k), else undefined
  torch::Tensor iwae_bits;  ///< [n] DNA: -log p̂(x) (IWAE, K = request.k) in bits per known base
  torch::Tensor novelty;    ///< [n] DNA designs: Hamming distance (fraction of positions) to the nearest training window
};

/// Everything a design run measured.
struct DesignResult {
  DesignRequest request;
  bool sequences = false;          ///< DNA windows (data.format = "fasta")
  bool crystals = false;           ///< a crystal run (model.type = "crystal"): rows of data/crystal_rows.h, decoded
                                   ///< to their most probable structure; properties from run/crystals.h
  bool exact = false;              ///< the decoded designs' property is measured exactly (an oracle exists)
  bool decoded_fit = false;        ///< the head was fitted on decoded codes (request.fit)
  bool log_property = false;       ///< crystals: the head fits log c (positive properties spanning decades) and the
                                   ///< search aims at log target; its mean, sd, noise sd and R^2 are of log c, its
                                   ///< predictions (groups, trajectories) back in the property's units
  torch::Tensor free;              ///< [D] 1 for the dimensions the search moved, 0 for those held at the start
  double prior_sd = 1;             ///< p(z) = N(0, prior_sd^2 I) used in the objective
  std::vector<std::string> notes;  ///< caveats, in words (also in the JSON)
  diag::PropertyHead head;
  diag::Design design;             ///< start and final codes, trajectories of J and f
  DesignGroup reference;           ///< n random training examples: their encodings and windows
  DesignGroup start;               ///< the start codes, decoded
  DesignGroup designs;             ///< the final codes, decoded
  Json json;                       ///< every number (design.json)
};

/// Fits the head on the posterior means of at most max_fit training examples (data::load_data(run.config).train,
/// a seeded subset) and their property (request.fit = "encoded"), or on those means and as many prior draws,
/// each decoded as the designs are and measured by the exact oracle ("decoded"); moves all dimensions or the
/// active units only (request.dims), designs n codes from the start (diag::design_codes, prior N(0, s^2 I) with
/// s = model.prior_scale: the Model interface exposes no log p(z), so a model whose prior is not that normal is
/// optimized against it regardless, as the notes say), decodes them and measures the three groups. Throws
/// std::invalid_argument for a property the run's data do not have (listing those that exist) and for bad options.
DesignResult design_run(const LoadedRun& run, const DesignRequest& request);

/// trajectory.csv: step,design,objective,predicted (1-based designs, step 0 = the start).
std::string trajectory_csv(const DesignResult& result);

}  // namespace elbo::run
