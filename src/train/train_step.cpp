#include "elbo/train/train_step.h"

#include "elbo/core/worker_threads.h"
#include "elbo/train/fused_m2_step.h"
#include "elbo/train/fused_multimodal_step.h"
#include "elbo/train/fused_vae_step.h"

#include <cmath>

namespace elbo::train {

AutogradStep::AutogradStep(model::Model& model, const objective::Objective& objective, torch::optim::Adam& optimizer)
    : model_(model), objective_(objective), zero_(optimizer) {}

StepOutput AutogradStep::operator()(const data::Batch& batch, int64_t step, torch::optim::Adam*) {
  StepOutput out;
  out.value = objective_(model_.forward(batch, objective_.particles()), step);
  zero_.zero_grad();
  if (std::isfinite(out.value.loss.item<double>())) out.value.loss.backward();
  return out;
}

namespace {

/// A faster step for the configurations it supports: the step, or null with the reason in `why`.
using FastStepFactory = std::unique_ptr<TrainStep> (*)(model::Model&, const objective::Objective&,
                                                       const data::Dataset&, std::string& why);

/// The registered faster steps, tried in order.
constexpr FastStepFactory kFastSteps[] = {&make_fused_vae_step, &make_fused_multimodal_step, &make_fused_m2_step};

}  // namespace

StepChoice choose_train_step(model::Model& model, const objective::Objective& objective, const data::Dataset& train,
                             torch::optim::Adam& optimizer, bool allow_fast) {
  std::string why = "train.fused = false";
  if (allow_fast)
    for (const FastStepFactory make : kFastSteps)
      if (auto step = make(model, objective, train, why)) {
        std::string name = step->name();
        return {std::move(step), std::move(name)};
      }
  return {std::make_unique<AutogradStep>(model, objective, optimizer), "autograd (" + why + ")"};
}

}  // namespace elbo::train
