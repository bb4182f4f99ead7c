#include "elbo/nn/sequence_conv.h"

#include "elbo/core/check.h"

#include <torch/nn/functional/upsampling.h>

namespace elbo::nn {
namespace {

/// Lengths after each stride-2 layer: L, ceil(L / 2), ... (checked against the options).
std::vector<int64_t> layer_lengths(const SequenceConvOptions& o, const char* who) {
  ELBO_CHECK(o.length() >= 1 && o.symbols() >= 1 && o.features() >= 1, who,
             ": length, symbols and features must be positive (got ", o.length(), ", ", o.symbols(), ", ",
             o.features(), ")");
  ELBO_CHECK(!o.channels().empty(), who, ": needs at least one conv layer (model.channels)");
  ELBO_CHECK(o.kernel() >= 1 && o.kernel() % 2 == 1, who, ": the kernel width must be odd (got ", o.kernel(), ")");
  std::vector<int64_t> lengths{o.length()};
  for (size_t i = 0; i < o.channels().size(); ++i) lengths.push_back((lengths.back() + 1) / 2);
  return lengths;
}

}  // namespace

SequenceEncoderImpl::SequenceEncoderImpl(const SequenceConvOptions& options) : options_(options) {
  const auto lengths = layer_lengths(options, "elbo::nn::SequenceEncoder");
  int64_t in = options.symbols();
  for (size_t i = 0; i < options.channels().size(); ++i) {
    const int64_t out = options.channels()[i];
    convs_.push_back(register_module(
        "conv" + std::to_string(i),
        torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, options.kernel()).stride(2).padding(options.kernel() / 2))));
    in = out;
  }
  head_ = register_module("head", torch::nn::Linear(in * lengths.back(), options.features()));
}

torch::Tensor SequenceEncoderImpl::forward(const torch::Tensor& x) {
  const int64_t L = options_.length(), S = options_.symbols();
  ELBO_CHECK(x.dim() >= 2 && x.size(-1) == L * S, "elbo::nn::SequenceEncoder: expected input [..., ", L * S, "] (",
             L, " positions x ", S, " channels), got ", x.sizes());
  torch::Tensor h = x.reshape({-1, S, L});
  for (auto& conv : convs_) h = activate(conv->forward(h), options_.activation());
  auto shape = x.sizes().vec();
  shape.back() = options_.features();
  return head_->forward(h.flatten(1)).view(shape);
}

SequenceDecoderImpl::SequenceDecoderImpl(const SequenceConvOptions& options)
    : options_(options), lengths_(layer_lengths(options, "elbo::nn::SequenceDecoder")) {
  const auto& ch = options.channels();
  const size_t n = ch.size();
  stem_ = register_module("stem", torch::nn::Linear(options.features(), ch.back() * lengths_.back()));
  // Layer i upsamples length lengths_[n-i] to lengths_[n-i-1], then convolves (stride 1, same length).
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = ch[n - 1 - i], out = i + 1 == n ? options.symbols() : ch[n - 2 - i];
    convs_.push_back(register_module(
        "conv" + std::to_string(i),
        torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, options.kernel()).padding(options.kernel() / 2))));
  }
  torch::NoGradGuard no_grad;
  convs_.back()->weight.mul_(options.output_init_scale());
}

torch::Tensor SequenceDecoderImpl::forward(const torch::Tensor& z) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.features(), "elbo::nn::SequenceDecoder: expected input [..., ",
             options_.features(), "], got ", z.sizes());
  torch::Tensor h = activate(stem_->forward(z.reshape({-1, options_.features()})), options_.activation());
  h = h.view({-1, options_.channels().back(), lengths_.back()});
  const size_t n = convs_.size();
  for (size_t i = 0; i < n; ++i) {
    h = torch::nn::functional::interpolate(
        h, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{lengths_[n - 1 - i]}).mode(torch::kNearest));
    h = convs_[i]->forward(h);
    if (i + 1 < n) h = activate(h, options_.activation());
  }
  auto shape = z.sizes().vec();
  shape.back() = options_.length() * options_.symbols();
  return h.transpose(1, 2).reshape(shape);  // [N, S, L] -> position-major [..., L * S]
}

}  // namespace elbo::nn
