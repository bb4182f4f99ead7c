#pragma once
#include "elbo/core/batch_shard.h"
#include "elbo/core/worker_threads.h"
#include "elbo/objective/elbo.h"
#include "elbo/train/train_step.h"

namespace elbo::train {

/// The per-row reconstruction log p(x | z) and KL of a step, summed in double: its metric sums.
inline objective::MetricSums sum_rows(const float* reconstruction, const float* kl, int64_t rows) {
  double reconstruction_sum = 0, kl_sum = 0;
  for (int64_t r = 0; r < rows; ++r) reconstruction_sum += reconstruction[r], kl_sum += kl[r];
  return {reconstruction_sum - kl_sum, reconstruction_sum, kl_sum};
}

/// Why the hand-written steps cannot train with `objective`, or "" when they can: the ELBO with one
/// particle and no free bits, and its analytic KL unless the step also takes the Monte Carlo one.
inline std::string objective_refusal(const objective::Objective& objective, bool takes_monte_carlo_kl) {
  const auto* elbo = dynamic_cast<const objective::Elbo*>(&objective);
  if (!elbo) return "the objective is not the ELBO";
  if (elbo->options().particles() != 1) return "objective.particles > 1";
  if (!takes_monte_carlo_kl && !elbo->options().analytic_kl()) return "objective.kl = mc";
  if (elbo->options().free_bits() > 0) return "objective.free_bits > 0";
  return "";
}

/// What a hand-written step returns: its per-row terms, bound = reconstruction - KL, and the loss
/// as a float32 scalar (as the other objectives' losses).
inline objective::Value step_value(double beta, const torch::Tensor& reconstruction, const torch::Tensor& kl,
                                   double loss) {
  objective::Value v;
  v.beta = beta;
  v.reconstruction = reconstruction;
  v.kl = kl;
  v.bound = reconstruction - kl;
  v.loss = torch::scalar_tensor(loss);
  return v;
}

/// A hand-written step (FusedVaeStep, FusedMultimodalStep, FusedM2Step) behind the TrainStep interface, on the
/// process's kernel team, with the noise of its training rows drawn exactly as
/// dist::Normal::rsample draws it (this rank's rows of the global batch: randn_batch).
template <typename Step>
class FusedTrainStep : public TrainStep {
 public:
  template <typename Model, typename... Options>
  FusedTrainStep(Model& model, const objective::Objective& objective, Options... options)
      : step_(model, &kernel_team(), options...), objective_(objective), latent_dim_(model.latent_dim()) {}
  std::string name() const override { return "fused"; }
  bool reads_labels() const override { return Step::kReadsLabels; }
  bool gathers_on_team() const override { return true; }

  StepOutput operator()(const data::Batch& batch, int64_t step, torch::optim::Adam* optimizer) override {
    const torch::Tensor eps =
        randn_batch(step_.noise_shape(batch.size()), batch.x.options()).reshape({-1, latent_dim_});
    const double beta = objective_.kl_weight(step);
    StepOutput out;
    if constexpr (Step::kReadsLabels)
      out.value = step_(batch.x.contiguous(), batch.y, batch.y_mask, eps, beta, optimizer);
    else
      out.value = step_(batch.x.contiguous(), eps, beta, optimizer);
    out.updated = step_.updated();
    out.has_gradient_norm = true;
    out.gradient_norm = step_.gradient_norm();
    out.has_sums = true;
    out.sums = step_.metric_sums();
    return out;
  }

 private:
  Step step_;
  const objective::Objective& objective_;
  int64_t latent_dim_;
};

}  // namespace elbo::train
