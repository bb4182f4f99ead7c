#include "elbo/dist/joint.h"

#include "elbo/core/check.h"
#include "elbo/dist/categorical.h"

namespace elbo::dist {

Joint::Joint(std::vector<DistributionPtr> parts, std::vector<int64_t> widths)
    : parts_(std::move(parts)), widths_(std::move(widths)) {
  ELBO_CHECK(!parts_.empty() && parts_.size() == widths_.size(), "elbo::dist::Joint: ", parts_.size(),
             " distributions for ", widths_.size(), " blocks");
  for (size_t m = 0; m < parts_.size(); ++m)
    ELBO_CHECK(parts_[m] && parts_[m]->sample_shape().back() == widths_[m], "elbo::dist::Joint: block ", m,
               " is ", widths_[m], " wide but its distribution has sample shape ",
               parts_[m] ? c10::IntArrayRef(parts_[m]->sample_shape()) : c10::IntArrayRef{});
}

Tensor Joint::log_prob_elements(const Tensor& x) const {
  int64_t total = 0;
  for (int64_t w : widths_) total += w;
  ELBO_CHECK(x.dim() >= 1 && x.size(-1) == total, "elbo::dist::Joint: expected values [..., ", total, "], got ",
             x.sizes());
  std::vector<Tensor> parts;
  int64_t begin = 0;
  for (size_t m = 0; m < parts_.size(); ++m) {
    parts.push_back(parts_[m]->log_prob_elements(x.narrow(-1, begin, widths_[m])));
    begin += widths_[m];
  }
  return torch::cat(parts, -1);
}

Tensor Joint::sample(int64_t k) const {
  std::vector<Tensor> parts;
  for (const auto& p : parts_) parts.push_back(p->sample(k));
  return torch::cat(parts, -1);
}

Tensor Joint::mean() const {
  std::vector<Tensor> parts;
  for (const auto& p : parts_) {
    const auto* categorical = dynamic_cast<const Categorical*>(p.get());
    parts.push_back(categorical ? categorical->logits().argmax(-1).to(categorical->logits().scalar_type()) : p->mean());
  }
  return torch::cat(parts, -1);
}

std::vector<int64_t> Joint::sample_shape() const {
  std::vector<int64_t> shape = parts_.front()->sample_shape();
  shape.back() = 0;
  for (int64_t w : widths_) shape.back() += w;
  return shape;
}

}  // namespace elbo::dist
