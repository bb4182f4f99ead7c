#include "elbo/train/config_keys.h"

namespace elbo::train {

std::vector<ConfigKey> config_keys() {
  using S = std::string;
  return {
      {"train.epochs", int64_t{10}, "passes over the training set", 1, 1e9},
      {"train.batch_size", int64_t{128}, "examples per step and process (data-parallel: the global batch is N times this)", 1, 1e9},
      {"train.lr", 1e-3, "Adam learning rate", 0.0, 1e3},
      {"train.beta1", 0.9, "Adam beta1", 0.0, 0.999999},
      {"train.beta2", 0.999, "Adam beta2", 0.0, 0.99999999},
      {"train.eps", 1e-8, "Adam epsilon", 0.0, 1.0},
      {"train.weight_decay", 0.0, "Adam L2 weight decay", 0.0, 1e3},
      {"train.grad_clip", 0.0, "clip the global gradient norm to this value (0 = off)", 0.0, 1e12},
      {"train.seed", int64_t{1}, "seed of every random draw (same seed + machine = same numbers)", 0, 9.2e18},
      {"train.log_every", int64_t{50}, "steps between metric records", 1, 1e12},
      {"train.checkpoint_every", int64_t{0}, "also write the checkpoint every N steps (0 = only after each epoch)", 0, 1e12},
      {"train.nonfinite", S("stop"), "on a NaN/Inf loss or gradient: stop (the last checkpoint is kept) or skip the step",
       -1e300, 1e300, {"stop", "skip"}},
      {"train.max_skipped", int64_t{10}, "with train.nonfinite = \"skip\": stop once more steps than this were skipped", 0, 1e12},
      {"train.inject_nan_step", int64_t{0}, "testing aid: the loss of this step (1-based) is made NaN (0 = off)", 0, 1e12},
      {"train.fused", true, "hand-written training step for MLP VAEs, mean-field hierarchical VAEs and multimodal VAEs (ReLU; "
       "Bernoulli, Gaussian or Laplace, or Bernoulli and categorical modalities; normal prior; one particle, no free "
       "bits, no missing data) when the model fits it; false = the autograd step"},
      {"train.threads", int64_t{0}, "LibTorch intra-op threads (0 = auto: 1 with OpenBLAS on all cores for matrix products; for models "
       "with convolutions as many as OpenBLAS had and OpenBLAS on one)", 0, 4096},
      {"train.device", S("cpu"), "where to train", -1e300, 1e300, {"cpu", "cuda", "auto"}},
      {"train.memory_check", true, "refuse (exit 2) a run whose memory estimate (elbo config --estimate) exceeds the "
       "memory available (MemAvailable, the cgroup limit or ulimit -v); false = try anyway"},
      {"train.dist_timeout", 120.0, "data-parallel training: seconds a rank waits for the others (rendezvous, each "
       "all-reduce) before failing with an error", 0.1, 1e6},
  };
}

}  // namespace elbo::train
