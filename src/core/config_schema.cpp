#include "elbo/core/config.h"

namespace elbo {

const std::vector<ConfigKey>& config_schema() {
  using S = std::string;
  using L = std::vector<int64_t>;
  static const std::vector<ConfigKey> schema = {
      // data
      {"data.format", S("idx"), "file format of the data set (dsprites: built-in synthetic images with known factors; "
       "lattice: built-in lattice fields, data.lattice_*; series: a CSV time series cut into windows, "
       "data.time_column ...; fasta: DNA sequences, plain or gzip, cut into windows of data.window bases, x = base "
       "index A0 C1 G2 T3; crystals: crystal structures from a CIF, pymatgen or ASE JSON file, data.max_atoms ...)", -1e300, 1e300,
       {"idx", "csv", "dsprites", "series", "fasta", "lattice", "crystals"}},
      {"data.max_atoms", int64_t{20}, "crystals: atoms per cell at most (the padded width; a larger structure in a "
       "file is refused, a larger prototype under data.substitutions left out)", 1, 1000},
      {"data.substitutions", int64_t{0}, "crystals: > 0 = data.train holds prototypes (e.g. pymatgen's "
       "aflow_prototypes.json): the training set is up to this many element substitutions of each "
       "(data/crystal_substitution.h; plausible, not relaxed by DFT) and, with data.test = \"\", the prototypes "
       "themselves are the test set; 0 = the structures of data.train as they are", 0, 1e6},
      {"data.substitution_seed", int64_t{0}, "crystals: seed of the substitutions (the same data for every train.seed)",
       0, 9.2e18},
      {"data.wrap_coordinates", true, "crystals: CIF fractional coordinates outside [0, 1) are wrapped into the cell "
       "with a note (true) or refused (false)"},
      {"data.origin_shift", false, "crystals: augmentation: each training batch's crystals get a random origin (every "
       "atom shifted by one uniform vector, wrapped, atoms re-sorted into canonical order); not validation or test"},
      {"data.lattice_model", S("gff"), "lattice: the field (data/lattice.h): gff = massive Gaussian free field, exact "
       "(use model.likelihood = \"gaussian\"); ising = 2-D Ising spins by Wolff cluster flips, as {0, 1}; file = "
       "configurations read from data.train / data.test (CSV rows or IDX examples of L^2 values, as elbo lattice "
       "writes them; spins if every value is 0 or 1)",
       -1e300, 1e300, {"gff", "ising", "file"}},
      {"data.lattice_size", int64_t{16}, "lattice: side L of the periodic L x L lattice (at least 2)", -1e18, 1e18},
      {"data.lattice_mass", 0.1, "lattice, gff: mass m > 0, S(k) = 1 / (m^2 + 4 sin^2(kx/2) + 4 sin^2(ky/2))",
       -1e300, 1e300},
      {"data.lattice_temperature", 2.269, "lattice, ising: temperature T > 0 (J = 1; T_c = 2.269185)", -1e300, 1e300},
      {"data.lattice_train", int64_t{10000}, "lattice: training configurations (validation included)", 1, 1e9},
      {"data.lattice_test", int64_t{2000}, "lattice: test configurations (their own random stream)", 1, 1e9},
      {"data.lattice_blocks", L{}, "lattice: block-spin factors b of the coarse-grained spectra in elbo evaluate, each "
       "dividing L ([] = those of 2, 4, 8 that do)", 1, 1e6},
      {"data.lattice_seed", int64_t{0}, "lattice: seed of the configurations (the same data for every train.seed)", 0,
       9.2e18},
      {"data.dsprites_size", int64_t{20000}, "dsprites: training examples (validation included), distinct factor "
       "combinations of the 73728", 1, 73728},
      {"data.dsprites_test", int64_t{5000}, "dsprites: test examples, combinations no training example has", 1, 73728},
      {"data.dsprites_seed", int64_t{0}, "dsprites: seed of the factor draw (the same data for every train.seed)", 0, 9.2e18},
      {"data.dir", S("/usr/share/datasets/fashion-mnist"), "directory the file names below are relative to"},
      {"data.train", S("train-images-idx3-ubyte.gz"), "training examples (IDX images, CSV table or FASTA file)"},
      {"data.train_labels", S("train-labels-idx1-ubyte.gz"), "IDX labels of the training examples (\"\" = none)"},
      {"data.test", S("t10k-images-idx3-ubyte.gz"), "test examples (\"\" = split off data.test_fraction; fasta: of "
       "the records, whole)"},
      {"data.test_labels", S("t10k-labels-idx1-ubyte.gz"), "IDX labels of the test examples (\"\" = none)"},
      {"data.test_fraction", 0.2, "fraction of data.train held out as test set when data.test is \"\"", 0.0, 0.9},
      {"data.validation", int64_t{5000}, "training examples held out for validation each epoch", 0, 1e9},
      {"data.max_train", int64_t{0}, "use only the first N training examples (0 = all)", 0, 1e12},
      {"data.max_test", int64_t{0}, "use only the first N test examples (0 = all)", 0, 1e12},
      {"data.binarize", S("none"), "binarization of [0,1] pixels", -1e300, 1e300, {"none", "static", "dynamic"}},
      {"data.standardize", false, "standardize CSV columns (statistics from the training split)"},
      {"data.delimiter", S(","), "CSV cell delimiter (one character)"},
      {"data.skip_rows", int64_t{0}, "CSV lines to skip before the header/data", 0, 1e9},
      {"data.header", S("auto"), "CSV header row", -1e300, 1e300, {"auto", "yes", "no"}},
      {"data.label_column", int64_t{0}, "CSV label column: 0 = none, k = k-th (1-based), -1 = last", -1e9, 1e9},
      {"data.target_columns", S(""), "CSV: float regression targets, comma-separated header names or 1-based indices "
       "(taken out of the inputs; standardized with data.standardize)"},
      {"data.time_column", S("1"), "series: the time column (header name or 1-based index), strictly increasing"},
      {"data.value_columns", S(""), "series: the value columns (names, indices or ranges a-b; \"\" = all but the time)"},
      {"data.test_from", 0.0, "series: rows with time >= this are held out (the test windows and the forecast's truth)"},
      {"data.window", int64_t{32}, "series: time steps per training window; fasta: bases per window", 2, 1e6},
      {"data.stride", int64_t{1}, "series, fasta: steps (bases) between the starts of training windows (fasta's test "
       "windows do not overlap)", 1, 1e6},
      {"data.ambiguous", S("mask"), "fasta: a base other than A, C, G, T (N, another IUPAC code, '-') is masked (mask) "
       "or drops its window (drop)", -1e300, 1e300, {"mask", "drop"}},
      {"data.reverse_complement", false, "fasta: add each training window's reverse complement to the training data "
       "(not to validation or test)"},
      {"data.difference", int64_t{0}, "series: model the differences x_t - x_{t-lag} at this lag (0 = the values; 1 = "
       "first differences, for a trend; the season's length, e.g. 52 for weekly data, for a trend and a season); "
       "forecasts are summed back into values", 0, 1e6},
      {"data.fill", S("none"), "series: missing values are an error (none) or interpolated linearly in time (linear)",
       -1e300, 1e300, {"none", "linear"}},
      {"data.labelled", int64_t{0}, "semi-supervised: keep the labels of only N training examples, balanced over the "
       "classes and chosen with train.seed (0 = keep all labels)", 0, 1e12},
      {"data.labelled_repeat", int64_t{0}, "semi-supervised: the labelled examples appear this many times per epoch "
       "(0 = auto: about a tenth of each batch is labelled)", 0, 1e9},
      {"data.missing", S("none"), "hide entries of complete data, keeping them to score imputations (each split its own "
       "masks): mcar = each entry with probability data.missing_rate, block = a square of side data.missing_block per "
       "image, bottom_half = the lower half of each image, columns = data.missing_columns of a table", -1e300, 1e300,
       {"none", "mcar", "block", "bottom_half", "columns"}},
      {"data.missing_rate", 0.2, "data.missing = \"mcar\": probability in [0, 1) that an entry is hidden", 0.0, 1.0},
      {"data.missing_block", int64_t{14}, "data.missing = \"block\": side of the hidden square in pixels", 1, 1e6},
      {"data.missing_columns", S(""), "data.missing = \"columns\": comma-separated CSV header names or 1-based feature "
       "indices hidden in every row"},
      {"data.missing_rows", 1.0, "fraction of the examples data.missing applies to, each drawn independently (the "
       "others stay complete; e.g. 0.5 with bottom_half, so that the model sees complete images too)", 0.0, 1.0},
      {"data.missing_seed", int64_t{1}, "seed of the data.missing masks (independent of train.seed)", 0, 9.2e18},
      // [[data.modalities]]: one table per kind of measurement of the same rows (model.type = "multimodal")
      {"data.modalities[].name", S(""), "modality: its name (unique; elbo predict --from/--to use it)"},
      {"data.modalities[].file", S(""), "modality: its training rows, a CSV table or IDX file aligned row by row with "
       "the other modalities' (relative to data.dir)"},
      {"data.modalities[].test", S(""), "modality: its test rows (\"\" = every modality's test rows are held out "
       "by data.test_fraction)"},
      {"data.modalities[].columns", S(""), "modality: CSV columns it takes (header names, 1-based indices or ranges "
       "a-b, comma-separated; \"\" = all)"},
      {"data.modalities[].image_columns", L{}, "modality: IDX images, the pixel columns [first, end) it takes "
       "(e.g. [0, 14] = the left half of 28x28 images; [] = all)", 0, 1e6},
      {"data.modalities[].presence_column", S(""), "modality: a CSV column (name or 1-based index) that is 1 where "
       "the modality was measured and 0 where not (\"\" = absent where a row's cells are all empty)"},
      {"data.modalities[].likelihood", S("gaussian"), "modality: p(x_m | z)", -1e300, 1e300,
       {"bernoulli", "continuous_bernoulli", "gaussian", "laplace", "categorical", "poisson", "negative_binomial"}},
      {"data.modalities[].categories", int64_t{0}, "modality: classes of a categorical modality (0 = the largest "
       "training value + 1)", 0, 1e6},
      {"data.modalities[].standardize", false, "modality: zero mean, unit variance per column (training statistics)"},
      {"data.modalities[].binarize", false, "modality: one Bernoulli draw per value in [0, 1], made once (seeded)"},
      {"data.modalities[].width", int64_t{0}, "modality: its columns, recorded from the data when a run starts (0 = "
       "from the data)", 0, 1e12},
      {"data.modalities[].image", L{}, "modality: [channels, height, width] of an image modality, recorded from the "
       "data when a run starts", 1, 1e6},
      {"data.modalities[].hidden", L{}, "modality: hidden widths of its encoder expert (its decoder mirrors them; "
       "[] = model.hidden)", 1, 1e6},
      // model
      {"model.type", S("vae"), "model family (hvae: hierarchical VAE with model.latent_dims layers; m2: semi-supervised "
       "VAE with the label as an enumerated latent; classifier: an MLP p(y|x), M2's supervised baseline; multimodal: "
       "one z behind the [[data.modalities]], a product-of-experts encoder; bnn: a Bayesian neural network, "
       "model.task; brnn: a Bayesian GRU forecaster on data.format = \"series\"; crystal: a VAE on data.format = "
       "\"crystals\", deep-sets encoder, lattice / count / species / coordinates decoded)", -1e300, 1e300,
       {"vae", "hvae", "m2", "classifier", "multimodal", "bnn", "brnn", "crystal"}},
      {"model.coordinate_likelihood", S("wrapped_normal"), "crystal: p(fractional coordinates | z), a wrapped normal "
       "on the 3-torus (periodic) or a plain gaussian on [0, 1) (the ablation)", -1e300, 1e300,
       {"wrapped_normal", "gaussian"}},
      {"model.coordinate_decoder", S("independent"), "crystal: the atoms' coordinates independent given z, or "
       "decoded atom by atom in the rows' order, each atom's distribution reading the atoms before it "
       "(autoregressive: sampling takes one decoder pass per atom slot)", -1e300, 1e300,
       {"independent", "autoregressive"}},
      {"model.harmonics", int64_t{3}, "crystal: the encoder reads sin and cos of 2 pi h f for h = 1..H of each "
       "fractional coordinate f", 1, 64},
      {"model.images", int64_t{3}, "crystal: images k = -K..K summed by the wrapped normal where its scale is below "
       "0.3 (above, its Fourier series)", 1, 100},
      {"model.species_embedding", int64_t{16}, "crystal: width of the learned embedding of each element", 1, 4096},
      {"model.task", S("classification"), "bnn: classification (labels, categorical likelihood) or regression "
       "(data.target_columns, Gaussian likelihood with a learned noise scale starting at model.scale)", -1e300, 1e300,
       {"classification", "regression"}},
      {"model.student_df", 0.0, "bnn regression: 0 = Gaussian noise; nu > 0 = Student-t noise with nu degrees of "
       "freedom (heavy tails), its scale learned as the Gaussian's", 0.0, 1e6},
      {"model.weights.prior", S("gaussian"), "bnn, brnn: p(w) per weight, N(0, sigma^2) or the scale mixture "
       "pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2) of Blundell et al. 2015 (Monte Carlo KL)", -1e300, 1e300,
       {"gaussian", "mixture"}},
      {"model.weights.sigma", 1.0, "bnn, brnn: scale of the Gaussian weight prior", 1e-12, 1e12},
      {"model.weights.pi", 0.5, "bnn, brnn: weight of the wide component of the mixture prior", 0.0, 1.0},
      {"model.weights.sigma1", 1.0, "bnn, brnn: scale of the mixture prior's wide component", 1e-12, 1e12},
      {"model.weights.sigma2", 0.0024787521766663585, "bnn, brnn: scale of the mixture prior's narrow component "
       "(exp(-6))", 1e-12, 1e12},
      {"model.weights.sampling", S("local"), "bnn: local reparameterization (Kingma et al. 2015: pre-activations drawn "
       "per example) or one draw of the weights per batch; brnn always draws weights once per sequence batch",
       -1e300, 1e300, {"local", "weights"}},
      {"model.weights.initial_scale", 0.01, "bnn, brnn: posterior standard deviation of every weight at initialization",
       1e-12, 1e3},
      {"model.weights.initial_mean_bound", 0.0, "bnn, brnn: posterior means start uniform in [-b, b], biases at 0 "
       "(0 = torch.nn.Linear's U(+-1/sqrt(fan_in)) for both; with the mixture prior, means inside the narrow "
       "component (|w| < ~3 sigma2) are pulled to 0 from the first step)", 0.0, 1e3},
      {"model.encoder", S("mlp"), "encoder network (conv: images; conv1d: sequences, e.g. DNA)", -1e300, 1e300,
       {"mlp", "conv", "conv1d"}},
      {"model.decoder", S("mlp"), "decoder network (conv: images; conv1d: sequences, e.g. DNA)", -1e300, 1e300,
       {"mlp", "conv", "conv1d"}},
      {"model.hidden", L{400}, "hidden layer widths of MLP encoder/decoder (decoder mirrors; [] = linear maps)", 1, 1e6},
      {"model.encoder_hidden", L{}, "hidden layer widths of the MLP encoder if not model.hidden ([] = model.hidden)",
       1, 1e6},
      {"model.channels", L{32, 64}, "channels of the stride-2 conv layers (decoder mirrors)", 1, 1e5},
      {"model.kernel", int64_t{9}, "conv1d: width of the stride-2 kernels (odd)", 1, 1e4},
      {"model.padding", S("zeros"), "conv (images): zeros, or circular for fields on a periodic lattice (the networks "
       "then commute with shifts by multiples of 2^layers; H and W must be divisible by it)", -1e300, 1e300,
       {"zeros", "circular"}},
      {"model.context", int64_t{0}, "categorical likelihood: an autoregressive decoder reading this many preceding "
       "symbols besides z; the decoder then emits model.channels[0] features per position (0 = positions "
       "independent given z)", 0, 1e4},
      {"model.context_hidden", int64_t{64}, "width of the autoregressive decoder's head (model.context > 0)", 1, 1e5},
      {"model.latent_dim", int64_t{20}, "latent dimensions", 1, 1e5},
      {"model.latent_dims", L{32, 16}, "hvae: sizes of z1 (next to x) ... zL (top), at least 2 layers", 1, 1e5},
      {"model.inference", S("mean_field"), "hvae: q(z1|x) q(z2|x) ... (mean_field) or q(z1|x) q(z2|z1) ... (structured)",
       -1e300, 1e300, {"mean_field", "structured"}},
      {"model.encoder_mask", false, "the encoder reads [x with missing entries zeroed, mask] (Mattei & Frellsen 2019); "
       "false = x with missing entries zeroed"},
      {"model.conditional", false, "conditional VAE: encoder and decoder also read onehot(label) (needs labels)"},
      {"model.classes", int64_t{10}, "label classes 0..classes-1 of a conditional model, M2 or a classifier", 2, 1e6},
      {"model.activation", S("relu"), "hidden activation", -1e300, 1e300,
       {"relu", "elu", "tanh", "softplus", "leaky_relu"}},
      {"model.likelihood", S("bernoulli"), "p(x|z)", -1e300, 1e300,
       {"bernoulli", "continuous_bernoulli", "gaussian", "laplace", "categorical", "poisson", "negative_binomial"}},
      {"model.likelihood_scale", S("per_feature"), "scale of gaussian/laplace likelihoods (negative_binomial: its "
       "dispersion)", -1e300, 1e300,
       {"fixed", "shared", "per_feature"}},
      {"model.scale", 1.0, "fixed (or initial learned) scale of gaussian/laplace likelihoods", 1e-6, 1e6},
      {"model.categories", int64_t{4}, "classes per position of the categorical likelihood", 2, 1e6},
      {"model.prior", S("normal"), "prior p(z)", -1e300, 1e300, {"normal", "dirac"}},
      {"model.prior_scale", 1.0, "standard deviation of the normal prior", 1e-12, 1e12},
      {"model.decoder_init_scale", 1.0, "multiplies the decoder's output-layer initial weights (small = remedy for posterior collapse)", 0.0, 1e3},
      // objective
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
      {"objective.geco_target", 0.0, "GECO: bound on the distortion -E log p(x|z), nats per example", -1e12, 1e12},
      {"objective.geco_alpha", 0.99, "GECO: moving-average factor of the constraint", 0.0, 0.999999},
      {"objective.geco_rate", 1e-3, "GECO: multiplier step nu, lambda *= exp(nu * constraint average)", 1e-12, 1e3},
      {"objective.geco_initial", 1.0, "GECO: initial Lagrange multiplier lambda (beta = 1 / lambda)", 1e-12, 1e12},
      {"objective.geco_min", 1e-3, "GECO: lower clamp of lambda", 1e-12, 1e12},
      {"objective.geco_max", 1e3, "GECO: upper clamp of lambda", 1e-12, 1e12},
      // train
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
      {"train.fused", true, "hand-written training step for MLP VAEs (ReLU, Bernoulli, normal prior, one particle, "
       "analytic KL, no free bits, no missing data) when the model fits it; false = the autograd step"},
      {"train.threads", int64_t{0}, "LibTorch intra-op threads (0 = auto: 1, OpenBLAS uses all cores for matrix products)", 0, 4096},
      {"train.device", S("cpu"), "where to train", -1e300, 1e300, {"cpu", "cuda", "auto"}},
      {"train.memory_check", true, "refuse (exit 2) a run whose memory estimate (elbo config --estimate) exceeds the "
       "memory available (MemAvailable, the cgroup limit or ulimit -v); false = try anyway"},
      {"train.dist_timeout", 120.0, "data-parallel training: seconds a rank waits for the others (rendezvous, each "
       "all-reduce) before failing with an error", 0.1, 1e6},
      // evaluation and report
      {"eval.k", int64_t{1000}, "importance samples K of the IWAE log-likelihood estimate", 1, 1e9},
      {"eval.n", int64_t{1000}, "test examples evaluated (0 = all)", 0, 1e12},
      {"eval.impute_draws", int64_t{100}, "data with entries hidden by data.missing: imputations per test example "
       "(their quantiles give the interval coverage)", 2, 1e6},
      {"eval.draws", int64_t{10}, "bnn, brnn: weight draws averaged by predictions (elbo predict --draws overrides)", 1, 1e6},
      {"report.samples", int64_t{64}, "images in the prior sample grid", 1, 10000},
      {"report.interpolation_steps", int64_t{10}, "images per latent interpolation row", 2, 1000},
  };
  return schema;
}

}  // namespace elbo
