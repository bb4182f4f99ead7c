// nn::conv_transpose2d, the transposed convolution computed as conv2d's data gradient, against LibTorch's own
// ConvTranspose2d (outputs and gradients in float64) and finite differences.
#include "elbo/nn/conv_transpose.h"
#include "support/throws.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/functional/conv.h>

namespace elbo {
namespace {

namespace F = torch::nn::functional;

struct Case {
  int64_t cin, cout, h, w, kernel, stride, padding, extra_h, extra_w;  // extra: ConvTranspose2d's output_padding
};

TEST(ConvTranspose2d, MatchesLibTorchInOutputsAndGradients) {
  torch::manual_seed(0);
  const auto f64 = torch::dtype(torch::kFloat64);
  for (const Case& c : {Case{4, 3, 5, 5, 4, 2, 1, 0, 0}, Case{3, 2, 4, 6, 4, 2, 1, 1, 0}, Case{2, 1, 3, 3, 3, 1, 1, 0, 0},
                        Case{3, 5, 2, 3, 4, 2, 0, 0, 1}, Case{1, 2, 3, 2, 5, 3, 2, 2, 1}}) {
    SCOPED_TRACE(testing::Message() << "cin " << c.cin << " cout " << c.cout << " kernel " << c.kernel << " stride "
                                    << c.stride << " padding " << c.padding);
    const torch::Tensor x = torch::randn({2, c.cin, c.h, c.w}, f64).requires_grad_();
    const torch::Tensor weight = torch::randn({c.cin, c.cout, c.kernel, c.kernel}, f64).requires_grad_();
    const torch::Tensor bias = torch::randn({c.cout}, f64).requires_grad_();
    const torch::Tensor expected = F::conv_transpose2d(
        x, weight,
        F::ConvTranspose2dFuncOptions().bias(bias).stride(c.stride).padding(c.padding).output_padding(
            std::vector<int64_t>{c.extra_h, c.extra_w}));
    const torch::Tensor y = nn::conv_transpose2d(x, weight, bias, c.stride, c.padding, expected.size(2), expected.size(3));
    ASSERT_EQ(y.sizes(), expected.sizes());
    EXPECT_TRUE(torch::allclose(y, expected, 1e-12, 1e-12));
    const torch::Tensor g = torch::randn_like(y);
    const auto want = torch::autograd::grad({expected}, {x, weight, bias}, {g});
    const auto got = torch::autograd::grad({y}, {x, weight, bias}, {g});
    for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-12, 1e-12)) << "input " << i;
  }
}

TEST(ConvTranspose2d, WeightGradientMatchesFiniteDifferences) {
  torch::manual_seed(1);
  const auto f64 = torch::dtype(torch::kFloat64);
  const torch::Tensor x = torch::randn({3, 2, 3, 3}, f64).requires_grad_();
  const torch::Tensor weight = torch::randn({2, 3, 4, 4}, f64).requires_grad_();
  const torch::Tensor probe = torch::randn({3, 3, 6, 6}, f64);
  const auto loss = [&](const torch::Tensor& xx, const torch::Tensor& ww) {
    return (nn::conv_transpose2d(xx, ww, {}, 2, 1, 6, 6).tanh() * probe).sum();
  };
  const auto grads = torch::autograd::grad({loss(x, weight)}, {x, weight});
  torch::NoGradGuard no_grad;
  const double h = 1e-6;
  const std::vector<std::pair<int, int64_t>> probes = {{0, 0}, {0, 17}, {0, 53}, {1, 5}, {1, 40}, {1, 95}};
  for (const auto& [which, index] : probes) {
    torch::Tensor xp = x.clone(), xm = x.clone(), wp = weight.clone(), wm = weight.clone();
    (which == 0 ? xp : wp).view(-1)[index] += h;
    (which == 0 ? xm : wm).view(-1)[index] -= h;
    const double numeric = (loss(xp, wp).item<double>() - loss(xm, wm).item<double>()) / (2 * h);
    EXPECT_NEAR(grads[which].view(-1)[index].item<double>(), numeric, 1e-7) << (which == 0 ? "x" : "weight") << " " << index;
  }
}

TEST(ConvTranspose2d, RefusesShapesThatDoNotFit) {
  const torch::Tensor x = torch::zeros({2, 4, 5, 5}), weight = torch::zeros({4, 3, 4, 4});
  test::expect_invalid_argument([&] { nn::conv_transpose2d(x, torch::zeros({3, 3, 4, 4}), {}, 2, 1, 10, 10); },
                                {"expected x [N, Cin, H, W] and weight [Cin, Cout, kH, kW]", "[2, 4, 5, 5]", "[3, 3, 4, 4]"});
  test::expect_invalid_argument([&] { nn::conv_transpose2d(x, weight, torch::zeros({4}), 2, 1, 10, 10); },
                                {"expected bias [3], got [4]"});
  test::expect_invalid_argument([&] { nn::conv_transpose2d(x, weight, {}, 2, 1, 12, 10); },
                                {"an output of 12 x 10 does not convolve", "back to the input's 5 x 5"});
}

}  // namespace
}  // namespace elbo
