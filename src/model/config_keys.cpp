#include "elbo/model/config_keys.h"

namespace elbo::model {

std::vector<ConfigKey> config_keys() {
  using S = std::string;
  using L = std::vector<int64_t>;
  return {
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
      {"model.coordinate_grid", int64_t{1}, "crystal, autoregressive decoder: G; each atom's fractional coordinates "
       "given z and the atoms before it are a mixture of G^3 wrapped normals on a grid of G places per axis around "
       "the decoded location, places on atoms already placed down-weighted (1: one wrapped normal per axis)", 1, 16},
      {"model.lattice_given_count", false, "crystal: decode the atom count first and the lattice given it (the "
       "lengths' logs shifted by log(n) / 3 and twelve learned offsets per count), so the cell grows with its atoms "
       "and the code says the volume per atom; false: lattice and count independent given z"},
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
      {"model.encoder", S("mlp"), "encoder network (conv: images; conv1d: sequences, e.g. DNA; bnn: conv = Bayesian stride-2 convolutions "
       "of model.channels before the hidden layers)", -1e300, 1e300,
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
  };
}

}  // namespace elbo::model
