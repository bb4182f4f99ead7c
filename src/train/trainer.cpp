#include "elbo/train/trainer.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"

#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace elbo::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The global L2 norm of the gradients (NaN/Inf if any entry is), clipped to `clip` when clip > 0.
double global_grad_norm(const std::vector<torch::Tensor>& parameters, double clip) {
  if (clip > 0) return torch::nn::utils::clip_grad_norm_(parameters, clip);
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  return norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
}

data::Dataset to_device(const data::Dataset& d, const c10::Device& device) {
  data::Dataset out = d;
  if (d.x.defined()) out.x = d.x.to(device);
  if (d.mask.defined()) out.mask = d.mask.to(device);
  if (d.y.defined()) out.y = d.y.to(device);
  return out;
}

/// Running sums of per-example metrics, kept on the device (no host sync per step).
struct Sums {
  torch::Tensor bound, reconstruction, kl;
  double loss = 0;
  int64_t examples = 0;

  void add(const objective::Value& v, double loss_value) {
    torch::Tensor b = v.bound.sum(), r = v.reconstruction.sum(), k = v.kl.sum();
    bound = bound.defined() ? bound + b : b;
    reconstruction = reconstruction.defined() ? reconstruction + r : r;
    kl = kl.defined() ? kl + k : k;
    loss += loss_value * v.bound.size(0);
    examples += v.bound.size(0);
  }
  double mean(const torch::Tensor& t) const { return t.defined() ? t.item<double>() / examples : 0.0; }
};

}  // namespace

TrainerOptions TrainerOptions::from_config(const Config& c) {
  TrainerOptions o;
  o.epochs = c.get_int("train.epochs");
  o.batch_size = c.get_int("train.batch_size");
  o.lr = c.get_double("train.lr");
  o.beta1 = c.get_double("train.beta1");
  o.beta2 = c.get_double("train.beta2");
  o.eps = c.get_double("train.eps");
  o.weight_decay = c.get_double("train.weight_decay");
  o.grad_clip = c.get_double("train.grad_clip");
  o.seed = static_cast<uint64_t>(c.get_int("train.seed"));
  o.log_every = c.get_int("train.log_every");
  o.checkpoint_every = c.get_int("train.checkpoint_every");
  o.nonfinite = c.get_string("train.nonfinite");
  o.max_skipped = c.get_int("train.max_skipped");
  o.inject_nan_step = c.get_int("train.inject_nan_step");
  o.checkpoint_info.config_toml = c.to_toml();
  return o;
}

Trainer::Trainer(std::shared_ptr<model::Model> model, std::shared_ptr<objective::Objective> objective,
                 TrainerOptions options)
    : model_(std::move(model)), objective_(std::move(objective)), options_(std::move(options)) {
  ELBO_CHECK(model_ && objective_, "elbo::train::Trainer: model and objective are required");
  ELBO_CHECK(options_.epochs >= 1, "train.epochs must be >= 1 (got ", options_.epochs, ")");
  ELBO_CHECK(options_.batch_size >= 1, "train.batch_size must be >= 1 (got ", options_.batch_size, ")");
  ELBO_CHECK(options_.lr > 0, "train.lr must be > 0 (got ", options_.lr, ")");
  ELBO_CHECK(options_.log_every >= 1, "train.log_every must be >= 1 (got ", options_.log_every, ")");
  ELBO_CHECK(options_.checkpoint_every >= 0, "train.checkpoint_every must be >= 0 (got ", options_.checkpoint_every, ")");
  ELBO_CHECK(options_.nonfinite == "stop" || options_.nonfinite == "skip",
             "train.nonfinite must be \"stop\" or \"skip\" (got \"", options_.nonfinite, "\")");
  ELBO_CHECK(options_.max_skipped >= 0, "train.max_skipped must be >= 0 (got ", options_.max_skipped, ")");
  optimizer_ = std::make_unique<torch::optim::Adam>(
      model_->parameters(), torch::optim::AdamOptions(options_.lr)
                                .betas({options_.beta1, options_.beta2})
                                .eps(options_.eps)
                                .weight_decay(options_.weight_decay));
  options_.checkpoint_info.features = model_->features();
}

void Trainer::resume(const std::string& path) {
  CheckpointInfo info = load_checkpoint(path, *model_, optimizer_.get());
  step_ = info.step;
  epoch_ = info.epoch;
  batch_in_epoch_ = info.batch_in_epoch;
  skipped_ = info.skipped;
  objective_->load_state(info.objective_state);
  checkpoint_exists_ = path == options_.checkpoint_path;
}

void Trainer::save(const std::string& path) const {
  CheckpointInfo info = options_.checkpoint_info;
  info.step = step_;
  info.epoch = epoch_;
  info.batch_in_epoch = batch_in_epoch_;
  info.skipped = skipped_;
  info.objective_state = objective_->state();
  save_checkpoint(path, *model_, optimizer_.get(), info);
}

void Trainer::checkpoint(Callback* callback) {
  if (options_.checkpoint_path.empty()) return;
  save(options_.checkpoint_path);
  checkpoint_exists_ = true;
  if (callback) callback->on_checkpoint(options_.checkpoint_path, step_);
}

void Trainer::validate(const data::Dataset& validation, EpochRecord& record) const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  record.valid_elbo = record.valid_reconstruction = record.valid_kl = nan;
  if (validation.size() == 0) return;
  torch::NoGradGuard no_grad;
  model_->eval();
  seed_stream(options_.seed, RngStream::validation, static_cast<uint64_t>(record.epoch));
  Sums sums;
  const int64_t chunk = std::max<int64_t>(options_.batch_size, 1000);
  for (int64_t begin = 0; begin < validation.size(); begin += chunk) {
    data::Batch batch = validation.slice(begin, std::min(validation.size(), begin + chunk));
    sums.add((*objective_)(model_->forward(batch, objective_->particles()), step_), 0.0);
  }
  record.valid_elbo = sums.mean(sums.bound);
  record.valid_reconstruction = sums.mean(sums.reconstruction);
  record.valid_kl = sums.mean(sums.kl);
  model_->train();
}

void Trainer::fit(const data::Dataset& train_data, const data::Dataset& validation_data, Callback* callback) {
  ELBO_CHECK(train_data.size() > 0, "elbo::train::Trainer: the training set is empty");
  ELBO_CHECK(train_data.features() == model_->features(), "elbo::train::Trainer: data '", train_data.name, "' has ",
             train_data.features(), " features per example, the model expects ", model_->features());
  ELBO_CHECK(validation_data.size() == 0 || validation_data.features() == model_->features(),
             "elbo::train::Trainer: validation data has ", validation_data.features(), " features, the model expects ",
             model_->features());
  const auto parameters = model_->parameters();
  const c10::Device device = parameters.empty() ? c10::Device(c10::kCPU) : parameters.front().device();
  const data::Dataset train = to_device(train_data, device);
  const data::Dataset validation = to_device(validation_data, device);
  const int64_t n = train.size();
  const int64_t batches = (n + options_.batch_size - 1) / options_.batch_size;
  stopped_early_ = false;
  model_->train();

  while (epoch_ < options_.epochs) {
    const auto epoch_start = Clock::now();
    seed_stream(options_.seed, RngStream::permutation, static_cast<uint64_t>(epoch_));
    const torch::Tensor order = torch::randperm(n, torch::kLong).to(device);
    Sums epoch_sums, window;
    auto window_start = Clock::now();
    for (int64_t b = batch_in_epoch_; b < batches; ++b) {
      seed_stream(options_.seed, RngStream::step, static_cast<uint64_t>(step_));
      const int64_t begin = b * options_.batch_size;
      data::Batch batch = train.batch(order.slice(0, begin, std::min(n, begin + options_.batch_size)));
      objective::Value v = (*objective_)(model_->forward(batch, objective_->particles()), step_);
      if (step_ + 1 == options_.inject_nan_step) v.loss = v.loss * std::numeric_limits<double>::quiet_NaN();
      const double loss = v.loss.item<double>();
      // A non-finite loss or gradient: stop (the last checkpoint stays as it was) or skip the update.
      std::string fault;
      if (!std::isfinite(loss)) {
        fault = detail::concat("non-finite loss (", loss, ") at step ", step_ + 1, " (epoch ", epoch_ + 1, ", batch ",
                               b + 1, " of ", batches, ")");
      } else {
        optimizer_->zero_grad();
        v.loss.backward();
        if (step_ + 1 == options_.inject_nan_gradient_step) {
          torch::NoGradGuard no_grad;
          for (auto& p : parameters)
            if (p.grad().defined()) p.grad().fill_(std::numeric_limits<float>::quiet_NaN());
        }
        const double norm = global_grad_norm(parameters, options_.grad_clip);
        if (!std::isfinite(norm))
          fault = detail::concat("non-finite gradient norm (", norm, ") at step ", step_ + 1, " (epoch ", epoch_ + 1,
                                 ", batch ", b + 1, " of ", batches, ")");
      }
      if (!fault.empty()) {
        const std::string last_good =
            options_.checkpoint_path.empty() ? std::string("no checkpoint was configured")
            : checkpoint_exists_             ? "the last good checkpoint '" + options_.checkpoint_path + "' is kept"
                                             : "no checkpoint was written yet";
        ELBO_CHECK_NUMERIC(options_.nonfinite == "skip", fault, "; training stopped and ", last_good,
                           ". Try a smaller train.lr, train.grad_clip > 0, or train.nonfinite = \"skip\"");
        ++skipped_;
        ELBO_CHECK_NUMERIC(skipped_ <= options_.max_skipped, fault, ": ", skipped_,
                           " steps with non-finite values were skipped, more than train.max_skipped = ",
                           options_.max_skipped, "; training stopped and ", last_good,
                           ". Try a smaller train.lr or train.grad_clip > 0");
        optimizer_->zero_grad();
        if (callback) callback->on_skipped_step(step_ + 1, fault);
      } else {
        optimizer_->step();
        objective_->after_step(v, step_);
        epoch_sums.add(v, loss);
        window.add(v, loss);
      }
      ++step_;
      batch_in_epoch_ = b + 1;
      if (callback) callback->on_batch(epoch_ + 1, b + 1, batches);
      if ((step_ % options_.log_every == 0 || b + 1 == batches) && window.examples > 0) {
        StepRecord r;
        r.step = step_;
        r.epoch = epoch_ + 1;
        r.loss = window.loss / window.examples;
        r.elbo = window.mean(window.bound);
        r.reconstruction = window.mean(window.reconstruction);
        r.kl = window.mean(window.kl);
        r.beta = v.beta;
        r.lr = options_.lr;
        r.examples_per_s = window.examples / std::max(1e-9, seconds_since(window_start));
        r.skipped = skipped_;
        for (const auto& [name, value] : v.metrics) r.objective_metrics.emplace_back(name, value.item<double>());
        if (callback) callback->on_step(r);
        window = Sums();
        window_start = Clock::now();
      }
      if (stop_requested_) {
        checkpoint(callback);
        stopped_early_ = true;
        return;
      }
      if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 && b + 1 < batches)
        checkpoint(callback);  // the end of the epoch writes one below
    }
    ++epoch_;
    batch_in_epoch_ = 0;
    EpochRecord record;
    record.epoch = epoch_;
    record.step = step_;
    record.seconds = seconds_since(epoch_start);
    if (epoch_sums.examples > 0) {
      record.loss = epoch_sums.loss / epoch_sums.examples;
      record.elbo = epoch_sums.mean(epoch_sums.bound);
      record.reconstruction = epoch_sums.mean(epoch_sums.reconstruction);
      record.kl = epoch_sums.mean(epoch_sums.kl);
      record.examples_per_s = epoch_sums.examples / std::max(1e-9, record.seconds);
    }
    validate(validation, record);
    // The record goes out before the checkpoint: a run killed in between resumes from the previous
    // checkpoint, which drops the record's metrics line (its step is later) and writes it again.
    if (callback) callback->on_epoch(record);
    checkpoint(callback);
  }
}

}  // namespace elbo::train
