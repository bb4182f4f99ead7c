#pragma once
#include "elbo/dist/distribution.h"

namespace elbo::dist {

/// Categorical over the last axis of logits [..., L, C]: an independent
/// categorical at each of L positions (e.g. a DNA sequence with C = 4).
/// x holds class indices [..., L] (any numeric dtype); log p = log_softmax(logits)[x].
class Categorical : public Distribution {
 public:
  explicit Categorical(Tensor logits);

  std::string name() const override { return "Categorical"; }
  Tensor log_prob_elements(const Tensor& x) const override;
  /// Class indices [..., L] as float (int64 values exactly representable).
  Tensor sample(int64_t k = 0) const override;
  /// Class probabilities [..., L, C] (the mean of the one-hot encoding).
  Tensor mean() const override;
  Tensor entropy_elements() const override;
  std::vector<int64_t> sample_shape() const override;

  const Tensor& logits() const { return logits_; }

 private:
  Tensor logits_;  // normalized: log_softmax over the class axis
};

}  // namespace elbo::dist
