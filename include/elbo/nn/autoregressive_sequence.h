#pragma once
#include "elbo/dist/distribution.h"
#include "elbo/nn/activation.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace elbo::nn {

/// The autoregressive head of a sequence decoder: each position's symbol depends on the code,
/// through per-position decoder features h_i(z) [F], and on the `context` symbols before it,
///   p(x | z) = prod_i Cat(x_i | softmax(W_o a(W_m a(W_h h_i(z) + sum_{j=1..K} U_j onehot(x_{i-j})))))
/// (a the activation; positions before the window start read zeros). Like PixelVAE
/// (Gulrajani et al. 2017) with a causal window of K symbols: a K-th order Markov chain whose
/// transition probabilities the latent code modulates. Teacher forcing scores a sequence in one
/// pass; sampling is sequential.
class AutoregressiveSequenceImpl : public torch::nn::Module {
 public:
  /// features: F per position; hidden: the width H of the head's layers.
  AutoregressiveSequenceImpl(int64_t symbols, int64_t features, int64_t hidden, int64_t context, Activation activation);

  /// Logits [..., L, S] for decoder features [..., L, F] and symbols x [..., L] (class indices,
  /// leading axes broadcast against the features'; x's value at position i is only read by i+1..i+K).
  torch::Tensor logits(const torch::Tensor& features, const torch::Tensor& x);
  /// Symbols [..., L] (as the features' dtype) chosen position by position (no gradient): drawn
  /// from each conditional, or its most probable symbol (`greedy`); with their conditional
  /// probabilities [..., L, S] when `probabilities` is given.
  torch::Tensor generate(const torch::Tensor& features, bool greedy, torch::Tensor* probabilities = nullptr);

  int64_t symbols() const { return symbols_; }
  int64_t features() const { return features_; }
  int64_t context() const { return context_; }

 private:
  /// Logits from pre-activations W_h h(z) + context term, [..., H] -> [..., S].
  torch::Tensor head(const torch::Tensor& pre);

  int64_t symbols_, features_, hidden_, context_;
  Activation activation_;
  torch::nn::Conv1d causal_{nullptr};  // S -> H over the K previous positions
  torch::nn::Linear input_{nullptr}, middle_{nullptr}, out_{nullptr};
};
TORCH_MODULE(AutoregressiveSequence);

/// p(x | z) of an autoregressive sequence decoder as a distribution over [..., L] symbols: a
/// Categorical at every position whose logits depend on the scored sequence itself.
class AutoregressiveCategorical : public dist::Distribution {
 public:
  /// features: the decoder's per-position features [..., L, F].
  AutoregressiveCategorical(AutoregressiveSequence head, torch::Tensor features);

  std::string name() const override { return "AutoregressiveCategorical"; }
  torch::Tensor log_prob_elements(const torch::Tensor& x) const override;
  /// Ancestral samples [(k,) ..., L] as float class indices.
  torch::Tensor sample(int64_t k = 0) const override;
  /// Symbol probabilities [..., L, S] along the greedy (most probable symbol first) path.
  torch::Tensor mean() const override;
  std::vector<int64_t> sample_shape() const override;

 private:
  mutable AutoregressiveSequence head_;  // its forward is not const
  torch::Tensor features_;
};

}  // namespace elbo::nn
