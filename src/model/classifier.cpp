#include "elbo/model/classifier.h"

#include "elbo/core/check.h"

namespace elbo::model {

ClassifierImpl::ClassifierImpl(int64_t features, int64_t classes, std::vector<int64_t> hidden, nn::Activation activation)
    : features_(features), classes_(classes) {
  ELBO_CHECK(features >= 1, "elbo::model::Classifier: features must be >= 1 (got ", features, ")");
  ELBO_CHECK(classes >= 2, "model.type = \"classifier\" needs labelled data with at least 2 classes (got ", classes,
             "); IDX: data.train_labels, CSV: data.label_column");
  net_ = register_module("classifier", nn::Mlp(nn::MlpOptions(features, classes).hidden(std::move(hidden)).activation(activation)));
}

Tensor ClassifierImpl::classify(const Batch& batch) {
  ELBO_CHECK(batch.x.defined() && batch.x.dim() == 2 && batch.x.size(1) == features_,
             "elbo::model::Classifier: expected data [B, ", features_, "], got ",
             batch.x.defined() ? batch.x.sizes() : c10::IntArrayRef{});
  return torch::log_softmax(net_->forward(encoder_input(batch)), -1);
}

Trace ClassifierImpl::forward(const Batch& batch, int64_t) {
  ELBO_CHECK(batch.y.defined(), "elbo::model::Classifier: the batch has no labels (IDX: data.train_labels, CSV: "
             "data.label_column)");
  const Tensor log_q = classify(batch);
  const Tensor y = batch.y.to(log_q.device());
  ELBO_CHECK(y.numel() == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < classes_),
             "elbo::model::Classifier: labels must be in 0..", classes_ - 1);
  Site s;
  s.name = "y";
  s.kind = SiteKind::observed;
  s.value = y;
  s.event_dims = 0;
  s.log_p = log_q.gather(1, y.unsqueeze(1)).squeeze(1);  // [B]
  if (batch.y_mask.defined()) {  // unlabelled rows drop out exactly
    s.mask = batch.y_mask.to(log_q.device());
    s.log_p = torch::where(s.mask > 0, s.log_p, torch::zeros_like(s.log_p));
  }
  s.log_p = s.log_p.unsqueeze(0);  // [1, B]
  Trace trace;
  trace.sites.push_back(std::move(s));
  return trace;
}

std::string ClassifierImpl::describe() const {
  return "MLP classifier p(y|x) over " + std::to_string(classes_) + " classes (maximum likelihood)";
}

}  // namespace elbo::model
