#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::diag {

/// Settings of the MIG estimate.
struct MigOptions {
  int64_t bins = 20;         ///< equal-width histogram bins per code dimension
  int64_t batch_size = 100;  ///< examples per encoder pass (estimate_mig)
};

/// Mutual Information Gap (Chen, Li, Grosse & Duvenaud 2018, "Isolating
/// sources of disentanglement in VAEs"), with the estimator of
/// disentanglement_lib (Locatello et al. 2019):
///   MIG = (1/F) sum_k [I(z_j(k); v_k) - max_{d != j(k)} I(z_d; v_k)] / H(v_k),
/// j(k) = argmax_d I(z_d; v_k): how much better the best code dimension
/// explains factor k than the runner-up, as a fraction of H(v_k). 1 = each
/// factor is carried by one dimension alone; 0 = by none or by several equally.
/// Each code dimension z_d is discretized into `bins` equal-width bins over its
/// range over the N examples; I(z_d; v_k) and H(v_k) are the plug-in
/// (empirical) values from the joint histogram counts, in nats. The plug-in MI
/// is biased upward by about (B - 1)(V_k - 1) / (2N) for B occupied bins and V_k
/// factor values (Miller-Madow), and so is each gap's noise floor for codes that
/// carry nothing; evaluate N >> B V_k examples. The result depends on B (z is
/// continuous). Factors that take a single value among the N examples have no
/// entropy: their gap is NaN and they are left out of the mean.
struct Mig {
  double mig = 0;                          ///< mean of the normalized gaps over factors that vary
  std::vector<double> gaps;                ///< [F] (top1 - top2) / H(v_k)
  std::vector<double> entropies;           ///< [F] H(v_k) in nats
  std::vector<int64_t> best_dims;          ///< [F] argmax_d I(z_d; v_k) (0-based)
  torch::Tensor mutual_information;        ///< [D, F] I(z_d; v_k) in nats, float64
  std::vector<std::string> factor_names;   ///< [F] the data set's names, else "factor0", ...
  int64_t examples = 0, bins = 0;
};

/// MIG of codes [N, D] (any floating type) against discrete factors [N, F]
/// (integers; any values, each distinct value one class). With D = 1 the runner-up counts as 0.
Mig mig(const torch::Tensor& codes, const torch::Tensor& factors, const MigOptions& options = {});

/// MIG of the encoder means E_q[z|x] = model.posterior(x).loc() on a data set
/// with factors (data.factors defined), without gradients.
Mig estimate_mig(model::Model& model, const data::Dataset& data, const MigOptions& options = {});

/// As a JSON object: mig, bins, examples and per factor its name, gap, entropy,
/// best dimension and I(z_d; v_k) over d.
Json to_json(const Mig& mig);

}  // namespace elbo::diag
