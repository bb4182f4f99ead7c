#include "elbo/diag/classification.h"

#include "elbo/core/json.h"
#include "elbo/core/check.h"

#include <cmath>

namespace elbo::diag {

torch::Tensor class_log_probabilities(model::Model& model, const data::Dataset& data, int64_t batch_size) {
  ELBO_CHECK(model.has_classifier(), "diag::class_log_probabilities: ", model.name(), " has no classifier q(y | x)");
  ELBO_CHECK(batch_size >= 1, "diag::class_log_probabilities: batch_size must be >= 1 (got ", batch_size, ")");
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    data::Batch batch = data.slice(begin, std::min(data.size(), begin + batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    parts.push_back(model.classify(batch).to(torch::kCPU, torch::kDouble));  // [B, C]
  }
  model.train(was_training);
  return parts.empty() ? torch::zeros({0, model.classes()}, torch::kDouble) : torch::cat(parts);
}

double expected_calibration_error(const torch::Tensor& probabilities, const torch::Tensor& labels, int64_t bins) {
  ELBO_CHECK(probabilities.dim() == 2 && labels.dim() == 1 && labels.size(0) == probabilities.size(0) && bins >= 1,
             "diag::expected_calibration_error: expected probabilities [N, C] and labels [N], got ",
             probabilities.sizes(), " and ", labels.sizes());
  const auto [confidence, predicted] = probabilities.to(torch::kDouble).max(1);
  const torch::Tensor correct = (predicted == labels.to(predicted.device())).to(torch::kDouble);
  const torch::Tensor bin = (confidence * static_cast<double>(bins)).to(torch::kLong).clamp_max(bins - 1);
  const torch::Tensor count = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, torch::ones_like(confidence));
  const torch::Tensor accuracy = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, correct);
  const torch::Tensor conf = torch::zeros({bins}, torch::kDouble).index_add_(0, bin, confidence);
  return (accuracy - conf).abs().sum().item<double>() / std::max<double>(1.0, static_cast<double>(labels.size(0)));
}

Classification evaluate_classifier(model::Model& model, const data::Dataset& data, int64_t batch_size) {
  ELBO_CHECK(data.y.defined() && data.size() > 0, "diag::evaluate_classifier: the data set '", data.name,
             "' has no labels");
  const int64_t c = model.classes();
  const torch::Tensor log_q = class_log_probabilities(model, data, batch_size);
  const torch::Tensor y = data.y.cpu();
  ELBO_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < c, "diag::evaluate_classifier: labels of '",
             data.name, "' must be in 0..", c - 1, " (model.classes = ", c, ")");
  Classification out;
  out.confusion = torch::zeros({c, c}, torch::kLong);
  out.confusion.view(-1).index_add_(0, y * c + log_q.argmax(-1), torch::ones_like(y));
  out.examples = data.size();
  const double n = static_cast<double>(out.examples);
  out.error = 1.0 - static_cast<double>(out.confusion.diagonal().sum().item<int64_t>()) / n;
  out.error_se = std::sqrt(out.error * (1 - out.error) / n);
  out.log_likelihood = log_q.gather(1, y.unsqueeze(1)).sum().item<double>() / n;
  out.ece = expected_calibration_error(log_q.exp(), y);
  return out;
}

Json to_json(const Classification& c) {
  return {{"examples", c.examples}, {"error", c.error}, {"error_se", c.error_se}, {"log_likelihood", c.log_likelihood},
          {"ece", c.ece},           {"confusion", json_array(c.confusion)}};
}

}  // namespace elbo::diag
