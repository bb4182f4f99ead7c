#include "elbo/nn/bayesian_linear.h"

#include "elbo/core/check.h"
#include "elbo/core/config.h"

#include <cmath>

namespace elbo::nn {

BayesianLayerOptions BayesianLayerOptions::from_config(const Config& c) {
  BayesianLayerOptions o;
  o.prior = WeightPrior::from_config(c);
  o.sampling = c.get_string("model.weights.sampling") == "weights" ? WeightSampling::weights : WeightSampling::local;
  o.initial_scale = c.get_double("model.weights.initial_scale");
  o.initial_mean_bound = c.get_double("model.weights.initial_mean_bound");
  return o;
}

BayesianLinearImpl::BayesianLinearImpl(int64_t in, int64_t out, const BayesianLayerOptions& o) : options_(o) {
  ELBO_CHECK(in >= 1 && out >= 1, "elbo::nn::BayesianLinear: sizes must be >= 1 (got ", in, " -> ", out, ")");
  const bool linear_init = o.initial_mean_bound <= 0;  // torch::nn::Linear's initialization
  const double bound = linear_init ? 1.0 / std::sqrt(static_cast<double>(in)) : o.initial_mean_bound;
  const double rho = rho_of_scale(o.initial_scale);
  weight_loc_ = register_parameter("weight_loc", torch::empty({out, in}).uniform_(-bound, bound));
  weight_rho_ = register_parameter("weight_rho", torch::full({out, in}, rho));
  bias_loc_ = register_parameter("bias_loc", linear_init ? torch::empty({out}).uniform_(-bound, bound) : torch::zeros({out}));
  bias_rho_ = register_parameter("bias_rho", torch::full({out}, rho));
}

BayesianLinearImpl::Draw BayesianLinearImpl::sample(int64_t particles, WeightCost* cost) const {
  const auto q = weights();
  const WeightDraw w = draw_weights(q[0], options_.prior, particles), b = draw_weights(q[1], options_.prior, particles);
  if (cost) cost->add(w), cost->add(b);
  return {w.value, b.value};
}

BayesianLinearImpl::Draw BayesianLinearImpl::mean() const { return {weight_loc_.unsqueeze(0), bias_loc_.unsqueeze(0)}; }

torch::Tensor BayesianLinearImpl::apply(const torch::Tensor& x, const Draw& w) {
  ELBO_CHECK(x.dim() == 3, "elbo::nn::BayesianLinear: expected inputs [K, B, in], got ", x.sizes());
  if (w.weight.size(0) == 1) return torch::matmul(x, w.weight[0].t()) + w.bias[0];
  return torch::baddbmm(w.bias.unsqueeze(1), x, w.weight.transpose(1, 2));
}

torch::Tensor BayesianLinearImpl::forward(const torch::Tensor& x, WeightCost* cost) {
  ELBO_CHECK(x.dim() == 3 && x.size(2) == weight_loc_.size(1), "elbo::nn::BayesianLinear: expected inputs [K, B, ",
             weight_loc_.size(1), "], got ", x.sizes());
  if (options_.sampling == WeightSampling::weights || !is_training()) return apply(x, sample(x.size(0), cost));
  const auto q = weights();
  const torch::Tensor mean = torch::matmul(x, weight_loc_.t()) + bias_loc_;
  const torch::Tensor var = torch::matmul(x.square(), q[0].variance().t()) + q[1].variance();
  return mean + var.sqrt() * torch::randn_like(mean);
}

}  // namespace elbo::nn
