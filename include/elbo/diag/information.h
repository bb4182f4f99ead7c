#pragma once
#include "elbo/core/json_fwd.h"
#include "elbo/data/dataset.h"
#include "elbo/model/model.h"

#include <string>

namespace elbo::diag {

/// Settings of the information estimate.
struct InformationOptions {
  int64_t particles = 1;         ///< z ~ q(z|x_n) drawn per example
  int64_t batch_size = 100;      ///< examples per pass
  int64_t max_elements = 1 << 24;  ///< bound on z-rows x N x D evaluated at once (memory)
  uint64_t seed = 1;
};

/// Mutual information, rate and distortion under the encoder (Alemi et al.
/// 2018, "Fixing a broken ELBO"; Hoffman & Johnson 2016, "ELBO surgery").
///
/// With the aggregate posterior q(z) = (1/N) sum_n q(z|x_n) over the N examples:
///   rate        R = E_x KL(q(z|x) || p(z))
///   distortion  D = -E_x E_q[log p(x|z)]      (so -ELBO = R + D)
///   I(x; z)       = E_x E_q[log q(z|x) - log q(z)]  =  R - KL(q(z) || p(z))
/// I is estimated with log q(z) replaced by log (1/N) sum_m q(z|x_m) over the
/// same N examples (the standard "dataset" estimator, e.g. He et al. 2019).
/// It is the InfoNCE bound with the true critic (van den Oord et al. 2018;
/// Poole et al. 2019): never above log N, and biased low for finite N
/// (E[Î_N] <= I, the bias shrinks as N grows; large I needs N >> exp(I)).
/// The marginal KL(q(z) || p(z)) is reported as R - Î (so it inherits that
/// bias, upward). I and the marginal KL concern the code of posterior();
/// R and D come from forward() (all latent groups).
struct Information {
  int64_t examples = 0, particles = 0;
  double mutual_information = 0;  ///< Î(x; z) in nats
  double mutual_information_se = 0;  ///< standard error over the N x particles terms (not the bias)
  double log_n = 0;               ///< the estimator's ceiling log N
  double rate = 0, rate_se = 0;
  double distortion = 0, distortion_se = 0;
  double marginal_kl = 0;         ///< KL(q(z) || p(z)) = rate - Î
};

Information estimate_information(model::Model& model, const data::Dataset& data,
                                 const InformationOptions& options = {});

/// As a JSON object.
Json to_json(const Information& information);

}  // namespace elbo::diag
