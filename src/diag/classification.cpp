#include "elbo/diag/classification.h"

#include "elbo/core/check.h"

#include <cmath>
#include <sstream>

namespace elbo::diag {

Classification evaluate_classifier(model::Model& model, const data::Dataset& data, int64_t batch_size) {
  ELBO_CHECK(model.has_classifier(), "diag::evaluate_classifier: ", model.name(), " has no classifier q(y | x)");
  ELBO_CHECK(data.y.defined() && data.size() > 0, "diag::evaluate_classifier: the data set '", data.name,
             "' has no labels");
  ELBO_CHECK(batch_size >= 1, "diag::evaluate_classifier: batch_size must be >= 1 (got ", batch_size, ")");
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
  const int64_t c = model.classes();
  Classification out;
  out.confusion = torch::zeros({c, c}, torch::kLong);
  double log_lik = 0;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    data::Batch batch = data.slice(begin, std::min(data.size(), begin + batch_size));
    batch.x = batch.x.to(device);
    if (batch.mask.defined()) batch.mask = batch.mask.to(device);
    const torch::Tensor log_q = model.classify(batch).to(torch::kCPU, torch::kDouble);  // [B, C]
    const torch::Tensor y = batch.y.cpu();
    ELBO_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < c, "diag::evaluate_classifier: labels of '",
               data.name, "' must be in 0..", c - 1, " (model.classes = ", c, ")");
    out.confusion.view(-1).index_add_(0, y * c + log_q.argmax(-1), torch::ones_like(y));
    log_lik += log_q.gather(1, y.unsqueeze(1)).sum().item<double>();
  }
  model.train(was_training);
  out.examples = data.size();
  const double n = static_cast<double>(out.examples);
  out.error = 1.0 - static_cast<double>(out.confusion.diagonal().sum().item<int64_t>()) / n;
  out.error_se = std::sqrt(out.error * (1 - out.error) / n);
  out.log_likelihood = log_lik / n;
  return out;
}

std::string to_json(const Classification& c) {
  std::ostringstream out;
  out.precision(10);
  out << "{\"examples\": " << c.examples << ", \"error\": " << c.error << ", \"error_se\": " << c.error_se
      << ", \"log_likelihood\": " << c.log_likelihood << ", \"confusion\": [";
  const auto a = c.confusion.accessor<int64_t, 2>();
  for (int64_t i = 0; i < c.confusion.size(0); ++i) {
    out << (i ? ", " : "") << "[";
    for (int64_t j = 0; j < c.confusion.size(1); ++j) out << (j ? ", " : "") << a[i][j];
    out << "]";
  }
  out << "]}";
  return out.str();
}

}  // namespace elbo::diag
