#include "elbo/objective/config_keys.h"

namespace elbo::objective {

std::vector<ConfigKey> config_keys() {
  using S = std::string;
  return {
      {"objective.type", S("elbo"), "training objective (miwae: the IWAE bound over the observed entries, Mattei & Frellsen 2019; geco: distortion "
       "constraint; tcvae: beta weights the total correlation)",
       -1e300, 1e300, {"elbo", "iwae", "miwae", "geco", "tcvae"}},
      {"objective.particles", int64_t{1}, "samples z per example (K)", 1, 1e6},
      {"objective.kl", S("analytic"), "KL term of the ELBO", -1e300, 1e300, {"analytic", "mc"}},
      {"objective.beta", 1.0, "weight of the KL term (beta-VAE)", 0.0, 1e6},
      {"objective.warmup_steps", int64_t{0}, "linear KL warm-up from 0 to beta over this many steps", 0, 1e12},
      {"objective.free_bits", 0.0, "per-dimension KL floor in nats (Kingma et al. 2016)", 0.0, 1e6},
      {"objective.alpha", 0.1, "M2: weight of the classification term log q(y|x) of labelled examples, times the "
       "training set size N (Kingma et al. 2014: 0.1 N)", 0.0, 1e6},
      {"objective.subsets", false, "multimodal: also the ELBO of each modality alone, so that one modality's "
       "posterior is trained too (Wu & Goodman 2018)"},
      {"objective.random_subsets", int64_t{0}, "multimodal: also the ELBOs of this many random subsets of each row's "
       "modalities", 0, 1e3},
      {"objective.subset_terms", S("subset"), "multimodal: what a subset's ELBO scores: its own modalities (subset, "
       "MVAE) or all the row's (present: q(z | subset) learns to predict the others, as in MoPoE, Sutter et al. 2021)",
       -1e300, 1e300, {"subset", "present"}},
      {"objective.geco_target", 0.0, "GECO: bound on the distortion -E log p(x|z), nats per example", -1e12, 1e12},
      {"objective.geco_alpha", 0.99, "GECO: moving-average factor of the constraint", 0.0, 0.999999},
      {"objective.geco_rate", 1e-3, "GECO: multiplier step nu, lambda *= exp(nu * constraint average)", 1e-12, 1e3},
      {"objective.geco_initial", 1.0, "GECO: initial Lagrange multiplier lambda (beta = 1 / lambda)", 1e-12, 1e12},
      {"objective.geco_min", 1e-3, "GECO: lower clamp of lambda", 1e-12, 1e12},
      {"objective.geco_max", 1e3, "GECO: upper clamp of lambda", 1e-12, 1e12},
  };
}

}  // namespace elbo::objective
