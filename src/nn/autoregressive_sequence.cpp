#include "elbo/nn/autoregressive_sequence.h"

#include "elbo/core/check.h"
#include "elbo/dist/categorical.h"

#include <torch/nn/functional/padding.h>

namespace elbo::nn {
namespace {

/// One-hot symbols [N, L] -> [N, S, L] (channels first, for the causal convolution).
torch::Tensor one_hot_channels(const torch::Tensor& x, int64_t symbols, const torch::TensorOptions& options) {
  return torch::one_hot(x.to(torch::kLong), symbols).to(options).transpose(1, 2);
}

}  // namespace

AutoregressiveSequenceImpl::AutoregressiveSequenceImpl(int64_t symbols, int64_t features, int64_t hidden,
                                                       int64_t context, Activation activation)
    : symbols_(symbols), features_(features), hidden_(hidden), context_(context), activation_(activation) {
  ELBO_CHECK(symbols >= 2 && features >= 1 && hidden >= 1 && context >= 1, "elbo::nn::AutoregressiveSequence: needs "
             ">= 2 symbols, positive widths and a context of >= 1 symbols (got ", symbols, ", ", features, ", ", hidden,
             ", ", context, ")");
  input_ = register_module("input", torch::nn::Linear(features, hidden));
  causal_ = register_module("causal", torch::nn::Conv1d(torch::nn::Conv1dOptions(symbols, hidden, context).bias(false)));
  middle_ = register_module("middle", torch::nn::Linear(hidden, hidden));
  out_ = register_module("out", torch::nn::Linear(hidden, symbols));
}

torch::Tensor AutoregressiveSequenceImpl::head(const torch::Tensor& pre) {
  return out_->forward(activate(middle_->forward(activate(pre, activation_)), activation_));
}

torch::Tensor AutoregressiveSequenceImpl::logits(const torch::Tensor& features, const torch::Tensor& x) {
  ELBO_CHECK(features.dim() >= 2 && features.size(-1) == features_ && x.dim() >= 1 && x.size(-1) == features.size(-2),
             "elbo::nn::AutoregressiveSequence: expected features [..., L, ", features_, "] and symbols [..., L], got ",
             features.sizes(), " and ", x.sizes());
  const int64_t L = x.size(-1);
  // Position i reads positions i-K .. i-1: pad K zeros in front, convolve (L + 1 outputs), drop the last.
  torch::Tensor onehot = one_hot_channels(x.reshape({-1, L}), symbols_, features.options());
  onehot = torch::nn::functional::pad(onehot, torch::nn::functional::PadFuncOptions({context_, 0}));
  torch::Tensor context = causal_->forward(onehot).narrow(2, 0, L).transpose(1, 2);  // [N, L, H]
  auto shape = x.sizes().vec();
  shape.push_back(hidden_);
  return head(input_->forward(features) + context.reshape(shape));
}

torch::Tensor AutoregressiveSequenceImpl::generate(const torch::Tensor& features, bool greedy,
                                                  torch::Tensor* probabilities) {
  ELBO_CHECK(features.dim() >= 2 && features.size(-1) == features_, "elbo::nn::AutoregressiveSequence: expected "
             "features [..., L, ", features_, "], got ", features.sizes());
  torch::NoGradGuard no_grad;
  const int64_t L = features.size(-2);
  const torch::Tensor f = input_->forward(features.reshape({-1, L, features_}));  // [n, L, H]
  const int64_t n = f.size(0);
  // The last K symbols chosen, one-hot [n, S, K] (zeros before the start).
  torch::Tensor window = torch::zeros({n, symbols_, context_}, f.options());
  torch::Tensor out = torch::empty({n, L}, f.options());
  std::vector<torch::Tensor> probs;
  for (int64_t i = 0; i < L; ++i) {
    const torch::Tensor logits = head(f.select(1, i) + causal_->forward(window).squeeze(2));  // [n, S]
    const torch::Tensor pick =
        greedy ? logits.argmax(-1).to(f.scalar_type()) : dist::Categorical(logits.unsqueeze(1)).sample().squeeze(1);
    if (probabilities) probs.push_back(torch::softmax(logits, -1));
    out.select(1, i).copy_(pick);
    window = torch::cat({window.narrow(2, 1, context_ - 1),
                         torch::one_hot(pick.to(torch::kLong), symbols_).to(f.options()).unsqueeze(2)}, 2);
  }
  auto shape = features.sizes().vec();
  if (probabilities) {
    shape.back() = symbols_;
    *probabilities = torch::stack(probs, 1).view(shape);
  }
  shape.pop_back();
  return out.view(shape);
}

AutoregressiveCategorical::AutoregressiveCategorical(AutoregressiveSequence head, torch::Tensor features)
    : head_(std::move(head)), features_(std::move(features)) {
  ELBO_CHECK(features_.dim() >= 2 && features_.size(-1) == head_->features(), "elbo::nn::AutoregressiveCategorical: "
             "expected features [..., L, ", head_->features(), "], got ", features_.sizes());
}

torch::Tensor AutoregressiveCategorical::log_prob_elements(const torch::Tensor& x) const {
  return dist::Categorical(head_->logits(features_, x)).log_prob_elements(x);
}

torch::Tensor AutoregressiveCategorical::sample(int64_t k) const {
  if (k == 0) return head_->generate(features_, false);
  auto shape = features_.sizes().vec();
  shape.insert(shape.begin(), k);
  return head_->generate(features_.unsqueeze(0).expand(shape), false);
}

torch::Tensor AutoregressiveCategorical::mean() const {
  torch::Tensor probabilities;
  head_->generate(features_, true, &probabilities);
  return probabilities;
}

std::vector<int64_t> AutoregressiveCategorical::sample_shape() const {
  auto shape = features_.sizes().vec();
  shape.pop_back();
  return shape;
}

}  // namespace elbo::nn
