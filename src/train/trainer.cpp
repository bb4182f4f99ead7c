#include "elbo/train/trainer.h"

#include "elbo/core/check.h"
#include "elbo/core/batch_shard.h"
#include "elbo/core/rng.h"
#include "elbo/nn/dense_kernels.h"
#include "elbo/train/adam_step.h"

#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>
#include <limits>

namespace elbo::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The global L2 norm of the gradients (NaN/Inf if any entry is), clipped to `clip` when clip > 0.
double global_grad_norm(const std::vector<torch::Tensor>& parameters, double clip, WorkerThreads& threads) {
  if (clip > 0) return torch::nn::utils::clip_grad_norm_(parameters, clip);
  double sum = 0;
  std::vector<std::pair<const float*, int64_t>> flat;  // float32 CPU gradients, shared by the threads
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    const torch::Tensor g = p.grad();
    if (g.scalar_type() != torch::kFloat || !g.device().is_cpu() || !g.is_contiguous())
      sum += g.to(torch::kDouble).square().sum().item<double>();
    else
      flat.emplace_back(g.data_ptr<float>(), g.numel());
  }
  std::vector<double> partial(threads.size(), 0.0);
  threads.run([&](int part) {
    for (const auto& [values, n] : flat) {
      const auto [begin, end] = part_range(n, part, threads.size());
      partial[part] += nn::squared_norm(values + begin, end - begin);
    }
  });
  for (const double s : partial) sum += s;
  return std::sqrt(sum);
}

data::Dataset to_device(const data::Dataset& d, const c10::Device& device) {
  data::Dataset out = d;
  if (d.x.defined()) out.x = d.x.to(device);
  if (d.mask.defined()) out.mask = d.mask.to(device);
  if (d.y.defined()) out.y = d.y.to(device);
  if (d.y_mask.defined()) out.y_mask = d.y_mask.to(device);
  if (d.target.defined()) out.target = d.target.to(device);
  return out;
}

/// Running sums of per-example metrics, in double on the host.
struct Sums {
  double bound = 0, reconstruction = 0, kl = 0, loss = 0;
  int64_t examples = 0;

  void add(const objective::MetricSums& s, double loss_value, int64_t count) {
    bound += s.bound;
    reconstruction += s.reconstruction;
    kl += s.kl;
    loss += loss_value * count;
    examples += count;
  }
  double mean(double sum) const { return examples > 0 ? sum / examples : 0.0; }
};

/// The sums of v's per-example bound, reconstruction and KL, read back in one copy.
objective::MetricSums metric_sums(const objective::Value& v) {
  const torch::Tensor s = torch::stack({v.bound.sum(), v.reconstruction.sum(), v.kl.sum()}).to(torch::kDouble).cpu();
  const double* p = s.data_ptr<double>();
  return {p[0], p[1], p[2]};
}

/// All parameters (or, with `grads`, their gradients times `weight`; zeros where
/// a parameter has none) as one flat tensor.
torch::Tensor flatten(const std::vector<torch::Tensor>& parameters, bool grads, double weight = 1.0) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : parameters) {
    if (!grads) parts.push_back(p.detach().reshape(-1));
    else if (p.grad().defined()) parts.push_back((p.grad() * weight).reshape(-1));
    else parts.push_back(torch::zeros({p.numel()}, p.options()));
  }
  return torch::cat(parts);
}

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
  o.fused = c.get_bool("train.fused");
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
  if (options_.checkpoint_path.empty() || rank() != 0) return;
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
    const objective::Value v = (*objective_)(model_->forward(batch, objective_->particles()), step_);
    sums.add(metric_sums(v), 0.0, v.bound.size(0));
  }
  record.valid_elbo = sums.mean(sums.bound);
  record.valid_reconstruction = sums.mean(sums.reconstruction);
  record.valid_kl = sums.mean(sums.kl);
  model_->train();
}

void Trainer::synchronize_start(int64_t examples, const std::vector<torch::Tensor>& parameters) {
  Distributed& d = *options_.distributed;
  ELBO_CHECK(objective_->state().empty(), "elbo::train::Trainer: objectives with state (GECO) are not supported in "
             "data-parallel training: the state would follow each rank's batch");
  const c10::Device device = parameters.empty() ? c10::Device(c10::kCPU) : parameters.front().device();
  const std::vector<double> mine = {static_cast<double>(examples), static_cast<double>(model_->features()),
                                    static_cast<double>(step_),    static_cast<double>(epoch_),
                                    static_cast<double>(batch_in_epoch_), static_cast<double>(skipped_)};
  const char* names[] = {"training examples", "features per example", "as step", "as epoch", "as batch of the epoch",
                         "as skipped steps"};
  torch::Tensor theirs = torch::tensor(mine, torch::kDouble).to(device);
  d.broadcast(theirs, "rank 0's data size and position");
  theirs = theirs.cpu();
  std::string mismatch;
  for (size_t i = 0; i < mine.size() && mismatch.empty(); ++i)
    if (theirs[static_cast<int64_t>(i)].item<double>() != mine[i])
      mismatch = detail::concat("rank ", d.rank(), " has ", static_cast<int64_t>(mine[i]), " ", names[i], ", rank 0 has ",
                                static_cast<int64_t>(theirs[static_cast<int64_t>(i)].item<double>()));
  torch::Tensor bad = torch::tensor({mismatch.empty() ? 0.0 : 1.0}, torch::kDouble).to(device);
  d.all_reduce_sum(bad, "the start check");
  ELBO_CHECK(mismatch.empty(), mismatch, ": every rank must train on the same data (and resume the same checkpoint)");
  ELBO_CHECK(bad.item<double>() == 0, "rank ", d.rank(), " of ", d.world_size(),
             ": another rank's data or position differs from rank 0's (see that rank's error)");
  if (parameters.empty()) return;
  torch::NoGradGuard no_grad;
  torch::Tensor flat = flatten(parameters, false).contiguous();
  d.broadcast(flat, "rank 0's parameters");
  int64_t offset = 0;
  for (const auto& p : parameters) {
    p.copy_(flat.narrow(0, offset, p.numel()).view_as(p));
    offset += p.numel();
  }
}

Trainer::StepTotals Trainer::all_reduce_step(const std::vector<torch::Tensor>& parameters,
                                             const objective::Value& value, double local_loss, const Shard& shard) {
  Distributed& d = *options_.distributed;
  torch::NoGradGuard no_grad;
  const int64_t rows = shard.rows();
  const bool have = rows > 0;
  // One buffer, one all-reduce (each costs a round trip): rank r's gradient of its mean loss over
  // rows_r examples times rows_r / G, which sum to the gradient of the mean loss over the G examples
  // of the global batch; then whether it has each parameter's gradient; then the loss and metric
  // sums and whether it was asked to stop. The scalars travel in the gradients' float32: counts and
  // flags stay exact, the sums (for metrics and the non-finite check) keep 7 digits.
  std::vector<double> extras;
  for (const auto& p : parameters) extras.push_back(p.grad().defined() ? 1.0 : 0.0);
  const size_t sums_at = extras.size();
  const objective::MetricSums local = have ? metric_sums(value) : objective::MetricSums{};
  extras.insert(extras.end(), {have ? local_loss * static_cast<double>(rows) : 0.0, static_cast<double>(rows),
                               local.bound, local.reconstruction, local.kl, stop_requested_ ? 1.0 : 0.0});
  int64_t numel = 0;
  for (const auto& p : parameters) numel += p.numel();
  const torch::TensorOptions options =
      parameters.empty() ? torch::TensorOptions(torch::kFloat) : parameters.front().options();
  const int64_t size = numel + static_cast<int64_t>(extras.size());
  if (!reduce_buffer_.defined() || reduce_buffer_.numel() != size || reduce_buffer_.device() != options.device())
    reduce_buffer_ = torch::empty({size}, options);  // kept: a fresh 2.6 MB every step costs page faults
  torch::Tensor& buffer = reduce_buffer_;
  const double weight = static_cast<double>(rows) / static_cast<double>(shard.global_rows());
  int64_t at = 0;
  for (const auto& p : parameters) {
    torch::Tensor slot = buffer.narrow(0, at, p.numel());
    if (p.grad().defined()) slot.copy_(p.grad().reshape(-1)).mul_(weight);
    else slot.zero_();
    at += p.numel();
  }
  buffer.narrow(0, numel, static_cast<int64_t>(extras.size())).copy_(torch::tensor(extras, torch::kDouble));
  d.all_reduce_sum(buffer, detail::concat("the gradients of step ", step_ + 1));
  const int64_t total = buffer.numel();
  const torch::Tensor reduced = buffer.narrow(0, total - static_cast<int64_t>(extras.size()), extras.size())
                                    .to(torch::kDouble).cpu();
  const double* r = reduced.data_ptr<double>();
  int64_t offset = 0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    auto p = parameters[i];
    const torch::Tensor g = buffer.narrow(0, offset, p.numel()).view_as(p);
    offset += p.numel();
    if (r[i] == 0) continue;  // no rank has a gradient for it
    if (p.grad().defined()) p.mutable_grad().copy_(g);
    else p.mutable_grad() = g.clone();
  }
  StepTotals t;
  t.examples = static_cast<int64_t>(std::llround(r[sums_at + 1]));
  t.loss = r[sums_at] / static_cast<double>(t.examples);
  t.sums = {r[sums_at + 2], r[sums_at + 3], r[sums_at + 4]};
  t.stop = r[sums_at + 5] > 0;
  return t;
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
  data::Dataset train = to_device(train_data, device);
  const data::Dataset validation = to_device(validation_data, device);
  const int64_t n = train.size();
  StepChoice choice = choose_train_step(*model_, *objective_, train, *optimizer_, options_.fused);
  step_fn_ = std::move(choice.step);
  train_step_ = std::move(choice.description);
  if (!step_fn_->reads_labels()) train.y = train.y_mask = torch::Tensor();  // none are gathered per batch
  const bool team_gather = step_fn_->gathers_on_team();
  const int world = world_size(), rank = this->rank();
  if (world > 1) synchronize_start(n, parameters);
  const int64_t batches = global_batches(n, options_.batch_size, world);
  Callback* report = rank == 0 ? callback : nullptr;  // ranks > 0 report nothing
  if (report) report->on_train_step(train_step_);
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
      const Shard shard = shard_of(n, options_.batch_size, world, rank, b);
      // The step may apply Adam itself where nothing else reads or changes its loss or gradients.
      const bool step_alone = world == 1 && options_.grad_clip <= 0 && step_ + 1 != options_.inject_nan_gradient_step &&
                              step_ + 1 != options_.inject_nan_step;
      StepOutput out;
      double local_loss = 0;
      if (shard.rows() > 0) {  // a rank may have no share of a short last batch
        // The noise of the whole global batch is drawn and this rank's rows kept.
        BatchShardScope noise({shard.begin - shard.global_begin, shard.rows(), shard.global_rows()});
        data::Batch batch = train.batch(order.slice(0, shard.begin, shard.end), team_gather ? &kernel_team() : nullptr);
        out = (*step_fn_)(batch, step_, step_alone ? optimizer_.get() : nullptr);
        if (b + 1 < batches) {  // the next batch's rows start loading during the bookkeeping below
          const Shard next = shard_of(n, options_.batch_size, world, rank, b + 1);
          train.prefetch(order, next.begin, next.end);
        }
        if (step_ + 1 == options_.inject_nan_step) out.value.loss = out.value.loss * std::numeric_limits<double>::quiet_NaN();
        local_loss = out.value.loss.item<double>();
      } else {
        optimizer_->zero_grad();
      }
      const objective::Value& v = out.value;
      StepTotals totals;
      if (world > 1) {
        totals = all_reduce_step(parameters, v, local_loss, shard);
      } else {
        totals.loss = local_loss;
        totals.sums = out.has_sums ? out.sums : metric_sums(v);
        totals.examples = v.bound.size(0);
      }
      const double loss = totals.loss;
      // A non-finite loss or gradient: stop (the last checkpoint stays as it was) or skip the update.
      std::string fault;
      if (!std::isfinite(loss)) {
        // A NaN's sign depends on the order of the operations that made it: "nan" either way.
        fault = detail::concat("non-finite loss (", std::isnan(loss) ? std::string("nan") : detail::concat(loss),
                               ") at step ", step_ + 1, " (epoch ", epoch_ + 1, ", batch ",
                               b + 1, " of ", batches, ")");
      } else {
        if (step_ + 1 == options_.inject_nan_gradient_step) {
          torch::NoGradGuard no_grad;
          for (auto& p : parameters)
            if (p.grad().defined()) p.grad().fill_(std::numeric_limits<float>::quiet_NaN());
        }
        // The step's own norm stands where nothing but Adam reads or changes its gradients.
        const double norm = out.has_gradient_norm && step_alone
                                ? out.gradient_norm
                                : global_grad_norm(parameters, options_.grad_clip, kernel_team());
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
        if (report) report->on_skipped_step(step_ + 1, fault);
      } else {
        if (!out.updated) adam_step(*optimizer_, &kernel_team());
        if (shard.rows() > 0) objective_->after_step(v, step_);
        epoch_sums.add(totals.sums, loss, totals.examples);
        window.add(totals.sums, loss, totals.examples);
      }
      ++step_;
      batch_in_epoch_ = b + 1;
      if (report) report->on_batch(epoch_ + 1, b + 1, batches);
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
        if (report) report->on_step(r);
        window = Sums();
        window_start = Clock::now();
      }
      if (world > 1 ? totals.stop : stop_requested_.load()) {
        checkpoint(report);
        stopped_early_ = true;
        return;
      }
      if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 && b + 1 < batches)
        checkpoint(report);  // the end of the epoch writes one below
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
    if (rank == 0) validate(validation, record);
    // The record goes out before the checkpoint: a run killed in between resumes from the previous
    // checkpoint, which drops the record's metrics line (its step is later) and writes it again.
    if (report) report->on_epoch(record);
    checkpoint(report);
  }
}

}  // namespace elbo::train
