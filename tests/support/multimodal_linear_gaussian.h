#pragma once
#include "elbo/dist/normal.h"
// A linear-Gaussian model with two modalities behind one z, whose posterior given any subset
// of modalities is known in closed form (and diagonal, so a product of diagonal Gaussian
// experts can equal it exactly):
//   p(z) = N(0, I_2),  x_a = W_a z + b_a + s e (2 columns),  x_b = W_b z + b_b + s e (3 columns)
// W_a and W_b have orthogonal columns, so W_m^T W_m is diagonal. For a subset S the model is
// the linear-Gaussian model (linear_gaussian.h) of the stacked rows of W_m, m in S. Expert m's
// exact factor is N(z; (W_m^T W_m)^-1 W_m^T (x_m - b_m), s^2 (W_m^T W_m)^-1). Everything is float64.
#include "elbo/data/modality.h"
#include "elbo/model/multimodal_vae.h"

#include "support/linear_gaussian.h"

#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <vector>

namespace elbo::testing {

struct MultimodalLinearGaussian {
  torch::Tensor W_a = torch::tensor({{2.0, 0.0}, {0.0, 0.5}}, torch::kDouble);
  torch::Tensor b_a = torch::tensor({0.5, -1.0}, torch::kDouble);
  torch::Tensor W_b = torch::tensor({{0.3, 0.0}, {0.0, 1.5}, {0.7, 0.0}}, torch::kDouble);
  torch::Tensor b_b = torch::tensor({0.0, 1.0, 2.0}, torch::kDouble);
  double s = 0.8;

  /// The layout: "a" = columns 0-1, "b" = columns 2-4, both Gaussian.
  std::vector<data::Modality> modalities() const {
    data::Modality a{"a", 0, 2}, b{"b", 2, 3};
    return {a, b};
  }
  /// The stacked model of a subset ({true, true} = both).
  std::shared_ptr<LinearGaussian> subset(bool a, bool b) const {
    std::vector<torch::Tensor> W, bias;
    if (a) W.push_back(W_a), bias.push_back(b_a);
    if (b) W.push_back(W_b), bias.push_back(b_b);
    return std::make_shared<LinearGaussian>(torch::cat(W), torch::cat(bias), s);
  }
  /// n rows [n, 5] drawn from the model.
  torch::Tensor sample(int64_t n) const {
    const torch::Tensor z = torch::randn({n, 2}, torch::kDouble);
    return torch::cat({z.mm(W_a.t()) + b_a, z.mm(W_b.t()) + b_b}, 1) + s * torch::randn({n, 5}, torch::kDouble);
  }
  /// A linear MultimodalVae (no hidden layers, fixed noise s) in float64 with the true decoders and,
  /// with `exact_experts`, the exact expert factors.
  model::MultimodalVae model(bool exact_experts) const {
    model::MultimodalVaeOptions o;
    o.modalities = modalities();
    o.latent_dim = 2;
    o.hidden = {};
    o.likelihood_scale = "fixed";
    o.scale = s;
    model::MultimodalVae m(o);
    m->to(torch::kDouble);
    torch::NoGradGuard no_grad;
    auto p = m->named_parameters();
    const torch::Tensor Ws[] = {W_a, W_b}, bs[] = {b_a, b_b};
    const char* names[] = {"a", "b"};
    for (int i = 0; i < 2; ++i) {
      const std::string d = std::string("decoder_") + names[i] + ".layer0.";
      p[d + "weight"].copy_(Ws[i]);
      p[d + "bias"].copy_(bs[i]);
      if (!exact_experts) continue;
      const torch::Tensor gram = Ws[i].t().mm(Ws[i]);  // diagonal
      const torch::Tensor M = torch::inverse(gram).mm(Ws[i].t());
      const std::string e = std::string("expert_") + names[i] + ".layer0.";
      p[e + "weight"].zero_();
      p[e + "weight"].narrow(0, 0, 2).copy_(M);
      p[e + "bias"].narrow(0, 0, 2).copy_(-M.mv(bs[i]));
      // The expert's scale s / sqrt(diag W'W) = sigma_min + e^r (dist::posterior_from_raw).
      p[e + "bias"].narrow(0, 2, 2).copy_(torch::log(s / torch::diagonal(gram).sqrt() - dist::kMinPosteriorScale));
    }
    return m;
  }
};

}  // namespace elbo::testing
