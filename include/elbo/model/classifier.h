#pragma once
#include "elbo/model/model.h"
#include "elbo/nn/activation.h"
#include "elbo/nn/mlp.h"

namespace elbo::model {

/// A plain MLP classifier p(y | x) = Cat(softmax(f(x))), trained by maximum likelihood on the
/// labelled rows of a batch (its trace: the observed site "y", no latent). With the network of
/// M2's q(y | x) it is the supervised baseline M2 is measured against (Kingma et al. 2014).
class ClassifierImpl : public Model {
 public:
  ClassifierImpl(int64_t features, int64_t classes, std::vector<int64_t> hidden, nn::Activation activation);

  Trace forward(const Batch& batch, int64_t particles) override;
  int64_t classes() const override { return classes_; }
  Tensor classify(const Batch& batch) override;
  bool has_classifier() const override { return true; }
  int64_t latent_dim() const override { return 0; }
  int64_t features() const override { return features_; }
  std::string describe() const override;

 private:
  int64_t features_, classes_;
  nn::Mlp net_{nullptr};
};
TORCH_MODULE(Classifier);

}  // namespace elbo::model
