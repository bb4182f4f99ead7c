#include "elbo/diag/property_head.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "elbo/core/rng.h"

#include <torch/optim/adam.h>

#include <cmath>

namespace elbo::diag {
namespace {

/// 1 - sum (c - f)^2 / sum (c - mean c)^2 (NaN when c is constant).
double r_squared(const Tensor& c, const Tensor& f) {
  const double ss_res = (c - f).square().sum().item<double>();
  const double ss_tot = (c - c.mean()).square().sum().item<double>();
  return ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
}

}  // namespace

Tensor PropertyHead::predict(const Tensor& z) const {
  ELBO_CHECK(net, "PropertyHead::predict: the head is not fitted");
  const int64_t d = net->options().in();
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == d, "PropertyHead::predict: codes must be [..., ", d, "] (got ", z.sizes(),
             ")");
  const Tensor x = z.to(torch::kFloat);
  return net.ptr()->forward(inputs.defined() ? x * inputs : x).squeeze(-1) * sd + mean;
}

Tensor PropertyHead::log_prob(const Tensor& z, double c) const {
  const Tensor r = (predict(z) - c) / noise_sd;
  return -0.5 * r.square() - std::log(noise_sd) - 0.5 * kLog2Pi;
}

PropertyHead fit_property_head(const Tensor& z, const Tensor& c, const PropertyHeadOptions& o) {
  constexpr const char* fn = "diag::fit_property_head";
  ELBO_CHECK(z.dim() == 2 && c.dim() == 1 && z.size(0) == c.size(0), fn, ": codes must be [N, D] and the property [N] (got ",
             z.sizes(), " and ", c.sizes(), ")");
  ELBO_CHECK(z.size(0) >= 10, fn, ": at least 10 pairs are needed (got ", z.size(0), ")");
  ELBO_CHECK(o.holdout > 0 && o.holdout < 1, fn, ": holdout must be in (0, 1) (got ", o.holdout, ")");
  ELBO_CHECK(o.steps >= 1 && o.lr > 0, fn, ": steps must be >= 1 and lr > 0 (got ", o.steps, ", ", o.lr, ")");
  ELBO_CHECK(torch::isfinite(z).all().item<bool>(), fn, ": the codes hold a non-finite value");
  ELBO_CHECK(torch::isfinite(c).all().item<bool>(), fn, ": the property holds a non-finite value");
  ELBO_CHECK(!o.inputs.defined() || (o.inputs.dim() == 1 && o.inputs.size(0) == z.size(1)), fn, ": inputs must be [",
             z.size(1), "] (got ", o.inputs.defined() ? o.inputs.sizes() : c10::IntArrayRef{}, ")");
  torch::NoGradGuard outside;  // the caller's grad mode plays no part in the fit
  const int64_t n = z.size(0), d = z.size(1);
  seed_stream(o.seed, RngStream::evaluation, 0x68656164ULL);  // "head"
  const Tensor perm = torch::randperm(n, torch::kLong);
  const int64_t held = std::max<int64_t>(1, std::llround(o.holdout * static_cast<double>(n)));
  const Tensor fit_index = perm.slice(0, 0, n - held), held_index = perm.slice(0, n - held);
  const Tensor zf = z.index_select(0, fit_index).to(torch::kFloat), zh = z.index_select(0, held_index).to(torch::kFloat);
  const Tensor cf = c.index_select(0, fit_index).to(torch::kDouble), ch = c.index_select(0, held_index).to(torch::kDouble);

  PropertyHead head;
  head.fitted = n - held;
  head.held_out = held;
  head.mean = cf.mean().item<double>();
  const double sd = head.fitted > 1 ? cf.std().item<double>() : 0.0;
  head.sd = sd > 0 ? sd : 1.0;  // a constant property: centred only
  head.net = nn::Mlp(nn::MlpOptions(d, 1).hidden(o.hidden).activation(o.activation));
  if (o.inputs.defined()) head.inputs = (o.inputs != 0).to(torch::kFloat);
  const Tensor zf_in = head.inputs.defined() ? zf * head.inputs : zf;
  const Tensor target = ((cf - head.mean) / head.sd).to(torch::kFloat);
  {
    torch::AutoGradMode grad(true);
    torch::optim::Adam adam(head.net->parameters(), torch::optim::AdamOptions(o.lr));
    for (int64_t step = 0; step < o.steps; ++step) {
      adam.zero_grad();
      const Tensor loss = (head.net->forward(zf_in).squeeze(-1) - target).square().mean();
      loss.backward();
      adam.step();
    }
  }
  head.net->eval();
  const Tensor ff = head.predict(zf).to(torch::kDouble), fh = head.predict(zh).to(torch::kDouble);
  ELBO_CHECK_NUMERIC(torch::isfinite(fh).all().item<bool>(), fn, ": the fitted head predicts a non-finite value");
  head.noise_sd = std::sqrt((ch - fh).square().mean().item<double>());
  if (!(head.noise_sd > 0)) head.noise_sd = 1e-6 * head.sd;  // an exact fit: keep log p finite
  head.r2 = r_squared(ch, fh);
  head.train_r2 = r_squared(cf, ff);
  return head;
}

}  // namespace elbo::diag
