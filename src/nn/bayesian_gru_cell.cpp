#include "elbo/nn/bayesian_gru_cell.h"

#include "elbo/core/check.h"

namespace elbo::nn {

BayesianGruCellImpl::BayesianGruCellImpl(int64_t input, int64_t hidden, const BayesianLayerOptions& options)
    : hidden_size_(hidden) {
  ELBO_CHECK(input >= 1 && hidden >= 1, "elbo::nn::BayesianGruCell: sizes must be >= 1 (got ", input, ", ", hidden, ")");
  input_ = register_module("input", BayesianLinear(input, 3 * hidden, options));
  hidden_ = register_module("hidden", BayesianLinear(hidden, 3 * hidden, options));
}

BayesianGruCellImpl::Draw BayesianGruCellImpl::sample(int64_t particles, WeightCost* cost) const {
  return {input_->sample(particles, cost), hidden_->sample(particles, cost)};
}

BayesianGruCellImpl::Draw BayesianGruCellImpl::mean() const { return {input_->mean(), hidden_->mean()}; }

torch::Tensor BayesianGruCellImpl::forward(const torch::Tensor& x, const torch::Tensor& h, const Draw& w) const {
  const auto gi = BayesianLinearImpl::apply(x, w.input).chunk(3, -1);
  const auto gh = BayesianLinearImpl::apply(h, w.hidden).chunk(3, -1);
  const torch::Tensor r = torch::sigmoid(gi[0] + gh[0]);
  const torch::Tensor z = torch::sigmoid(gi[1] + gh[1]);
  const torch::Tensor n = torch::tanh(gi[2] + r * gh[2]);
  return n + z * (h - n);
}

std::vector<GaussianWeights> BayesianGruCellImpl::weights() const {
  std::vector<GaussianWeights> w = input_->weights();
  for (auto& g : hidden_->weights()) w.push_back(g);
  return w;
}

}  // namespace elbo::nn
