#include "elbo/nn/conv.h"

#include "elbo/core/check.h"
#include "elbo/nn/conv_transpose.h"

#include <algorithm>
#include <vector>

namespace elbo::nn {
namespace {

void check_image(const ConvOptions& o, const char* who) {
  ELBO_CHECK(o.image().is_image() && o.image().channels > 0, who, ": needs an image shape (got ", o.image().str(),
             ")");
  ELBO_CHECK(!o.channels().empty(), who, ": needs at least one conv layer");
  int64_t h = o.image().height, w = o.image().width;
  for (size_t i = 0; i < o.channels().size(); ++i) {
    ELBO_CHECK(o.padding() != Padding::circular || (h % 2 == 0 && w % 2 == 0), who, ": circular padding needs H and W "
               "divisible by 2^layers = ", int64_t{1} << o.channels().size(), " (image ", o.image().str(), ", ",
               o.channels().size(), " stride-2 layers), so that every layer tiles the torus");
    h /= 2;
    w /= 2;
    ELBO_CHECK(h >= 1 && w >= 1, who, ": image ", o.image().str(), " is too small for ", o.channels().size(),
               " stride-2 layers");
  }
}

/// Flattens leading axes: [..., F] -> [N, F], remembering them.
std::vector<int64_t> leading(const torch::Tensor& x) {
  auto sizes = x.sizes().vec();
  sizes.pop_back();
  return sizes;
}

/// Folds axis `dim` of t onto a circle of `period` sites, shifted by `shift`:
///   out[j] = sum_{m : m - shift = j (mod period)} t[m],
/// by zero-padding the axis to whole turns, summing the turns and rolling by -shift.
torch::Tensor wrap_around(const torch::Tensor& t, int64_t dim, int64_t period, int64_t shift) {
  const int64_t length = t.size(dim), turns = (length + period - 1) / period;
  std::vector<int64_t> pad(2 * (t.dim() - dim), 0);  // (before, after) pairs from the last axis back to dim
  pad.back() = turns * period - length;
  const torch::Tensor padded = torch::constant_pad_nd(t, pad, 0);
  std::vector<int64_t> sizes = padded.sizes().vec();
  sizes[dim] = period;
  sizes.insert(sizes.begin() + dim, turns);
  return torch::roll(padded.view(sizes).sum(dim), {-(shift % period)}, {dim});
}

}  // namespace

Padding parse_padding(const std::string& name) {
  if (name == "zeros") return Padding::zeros;
  ELBO_CHECK(name == "circular", "padding '", name, "' is not one of: zeros, circular");
  return Padding::circular;
}

torch::Tensor circular_conv_transpose2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                        int64_t stride, int64_t padding) {
  ELBO_CHECK(x.dim() == 4 && weight.dim() == 4 && weight.size(0) == x.size(1) && weight.size(2) == weight.size(3),
             "elbo::nn::circular_conv_transpose2d: expected x [N, Cin, H, W] and weight [Cin, Cout, k, k], got x ",
             x.sizes(), " and weight ", weight.sizes());
  ELBO_CHECK(stride >= 1 && padding >= 0, "elbo::nn::circular_conv_transpose2d: needs stride >= 1 and padding >= 0 "
             "(got ", stride, ", ", padding, ")");
  const torch::Tensor full = conv_transpose2d(x, weight, {}, stride, 0, stride * (x.size(2) - 1) + weight.size(2),
                                              stride * (x.size(3) - 1) + weight.size(3));
  const torch::Tensor y = wrap_around(wrap_around(full, 2, stride * x.size(2), padding), 3, stride * x.size(3), padding);
  return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

ConvEncoderImpl::ConvEncoderImpl(const ConvOptions& options) : options_(options) {
  check_image(options, "elbo::nn::ConvEncoder");
  int64_t in = options.image().channels, h = options.image().height, w = options.image().width;
  const torch::nn::Conv2dOptions::padding_mode_t mode =
      options.padding() == Padding::circular ? torch::nn::Conv2dOptions::padding_mode_t(torch::kCircular)
                                             : torch::nn::Conv2dOptions::padding_mode_t(torch::kZeros);
  for (size_t i = 0; i < options.channels().size(); ++i) {
    const int64_t out = options.channels()[i];
    convs_.push_back(register_module(
        "conv" + std::to_string(i), torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 4).stride(2).padding(1).padding_mode(mode))));
    in = out;
    h /= 2;
    w /= 2;
  }
  head_ = register_module("head", torch::nn::Linear(in * h * w, options.features()));
}

torch::Tensor ConvEncoderImpl::forward(const torch::Tensor& x) {
  const auto& img = options_.image();
  ELBO_CHECK(x.dim() >= 2 && x.size(-1) == img.features(), "elbo::nn::ConvEncoder: expected input [..., ",
             img.features(), "] (", img.str(), " images), got ", x.sizes());
  auto lead = leading(x);
  torch::Tensor h = feature_maps(x.reshape({-1, img.channels, img.height, img.width}));
  h = activate(h.flatten(1), options_.activation());
  lead.push_back(options_.features());
  return head_->forward(h).view(lead);
}

torch::Tensor ConvEncoderImpl::feature_maps(const torch::Tensor& images) {
  torch::Tensor h = images;
  for (auto& conv : convs_) h = activate(conv->forward(h), options_.activation());
  return h;
}

ConvDecoderImpl::ConvDecoderImpl(const ConvOptions& options) : options_(options) {
  check_image(options, "elbo::nn::ConvDecoder");
  const auto& img = options.image();
  heights_.push_back(img.height);
  widths_.push_back(img.width);
  for (size_t i = 0; i < options.channels().size(); ++i) {
    heights_.push_back(heights_.back() / 2);
    widths_.push_back(widths_.back() / 2);
  }
  const auto& ch = options.channels();
  stem_ = register_module("stem", torch::nn::Linear(options.features(), ch.back() * heights_.back() * widths_.back()));
  // Mirror the encoder: layer i maps size heights_[n-i] back to heights_[n-i-1].
  const size_t n = ch.size();
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = ch[n - 1 - i];
    const bool last = i + 1 == n;
    const int64_t out = last ? options.params_per_pixel() * img.channels : ch[n - 2 - i];
    const int64_t pad_h = heights_[n - 1 - i] - 2 * heights_[n - i];
    const int64_t pad_w = widths_[n - 1 - i] - 2 * widths_[n - i];
    deconvs_.push_back(register_module(
        "deconv" + std::to_string(i),
        torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1).output_padding(
            std::vector<int64_t>{pad_h, pad_w}))));
  }
  torch::NoGradGuard no_grad;
  deconvs_.back()->weight.mul_(options.output_init_scale());
}

torch::Tensor ConvDecoderImpl::forward(const torch::Tensor& z) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.features(), "elbo::nn::ConvDecoder: expected input [..., ",
             options_.features(), "], got ", z.sizes());
  auto lead = leading(z);
  torch::Tensor h = activate(stem_->forward(z.reshape({-1, options_.features()})), options_.activation());
  h = upsample(h.view({-1, options_.channels().back(), heights_.back(), widths_.back()}));
  lead.push_back(options_.params_per_pixel() * options_.image().features());
  return h.reshape(lead);
}

torch::Tensor ConvDecoderImpl::upsample(const torch::Tensor& maps) {
  torch::Tensor h = maps;
  const size_t n = deconvs_.size();
  for (size_t i = 0; i < n; ++i) {
    const auto& deconv = deconvs_[i];
    h = options_.padding() == Padding::circular
            ? circular_conv_transpose2d(h, deconv->weight, deconv->bias, 2, 1)
            : conv_transpose2d(h, deconv->weight, deconv->bias, 2, 1, heights_[n - 1 - i], widths_[n - 1 - i]);
    if (i + 1 < n) h = activate(h, options_.activation());
  }
  return h;
}

}  // namespace elbo::nn
