// `import elbo`: the library's run layer from Python (README "From Python"). Tensors cross as the
// same at::Tensor objects (this module links the LibTorch that Python's torch uses: no copies).
#include <torch/extension.h>

#include <pybind11/stl.h>

#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/core/json.h"
#include "elbo/core/rng.h"
#include "elbo/data/dataset.h"
#include "elbo/data/load.h"
#include "elbo/diag/classification.h"
#include "elbo/diag/imputation.h"
#include "elbo/diag/regression.h"
#include "elbo/model/bnn.h"
#include "elbo/dist/bernoulli.h"
#include "elbo/dist/kl.h"
#include "elbo/dist/normal.h"
#include "elbo/run/design.h"
#include "elbo/run/evaluation.h"
#include "elbo/run/export.h"
#include "elbo/run/forecast.h"
#include "elbo/run/metrics_log.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/train_run.h"
#include "elbo/train/trainer.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace py = pybind11;

namespace elbo::python {
namespace {

// ---- Python values in, Python values out ----

py::object json_to_python(const Json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

/// A torch.Tensor as it is; anything torch.as_tensor takes (NumPy arrays without a copy, lists) converted.
torch::Tensor to_tensor(const py::handle& x) {
  if (THPVariable_Check(x.ptr())) return THPVariable_Unpack(x.ptr());
  return py::module_::import("torch").attr("as_tensor")(x).cast<torch::Tensor>();
}

/// The schema entry of `key` ("data.modalities[0].name" is "data.modalities[].name"), or null.
const ConfigKey* schema_key(const std::string& key) {
  std::string name;
  bool index = false;
  for (char c : key) {
    if (c == ']') index = false;
    if (!index) name += c;
    if (c == '[') index = true;
  }
  for (const ConfigKey& k : config_schema())
    if (k.name == name) return &k;
  return nullptr;
}

/// A Python config value as the schema's type: bool, int (also where a real number is expected),
/// float, str, or a list of ints; anything else is refused naming the key.
ConfigValue config_value(const std::string& key, const py::handle& v, const std::string& where) {
  const ConfigKey* k = schema_key(key);
  const bool real = k && std::holds_alternative<double>(k->default_value);
  auto is_int = [](const py::handle& h) { return !py::isinstance<py::bool_>(h) && PyIndex_Check(h.ptr()); };
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  auto as_int = [](const py::handle& h) { return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>(); };
  if (is_int(v)) return real ? ConfigValue(static_cast<double>(as_int(v))) : ConfigValue(as_int(v));
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    std::vector<int64_t> list;
    for (const py::handle& item : v) {
      ELBO_CHECK(is_int(item), where, "key '", key, "': a list holds integers (got ",
                 std::string(py::str(py::type::of(item).attr("__name__"))), ")");
      list.push_back(as_int(item));
    }
    return list;
  }
  throw std::invalid_argument(detail::concat(where, "key '", key, "': cannot take a value of Python type ",
                                             std::string(py::str(py::type::of(v).attr("__name__")))));
}

/// Sets the keys of `d` on `config`: nested dicts ({"train": {"epochs": 3}}) or dotted keys
/// ({"train.epochs": 3}); a list of dicts fills a table array ({"data": {"modalities": [{...}, {...}]}}).
void apply(Config& config, const py::dict& d, const std::string& prefix, const std::string& where) {
  for (const auto& [k, v] : d) {
    const std::string key = prefix + std::string(py::str(k));
    if (py::isinstance<py::dict>(v)) {
      apply(config, v.cast<py::dict>(), key + ".", where);
    } else if (py::isinstance<py::list>(v) && py::len(v) > 0 && py::isinstance<py::dict>(v.cast<py::list>()[0])) {
      const py::list tables = v.cast<py::list>();
      for (size_t i = 0; i < tables.size(); ++i) {
        ELBO_CHECK(py::isinstance<py::dict>(tables[i]), where, "key '", key, "': a table array is a list of dicts");
        if (static_cast<int64_t>(i) >= config.count(key)) config.add_table(key);
        apply(config, tables[i].cast<py::dict>(), key + "[" + std::to_string(i) + "].", where);
      }
    } else {
      config.set(key, config_value(key, v, where), where);
    }
  }
}

/// A TOML file's path (str or os.PathLike), a dict of keys, or None (the defaults); then `overrides`.
Config make_config(const py::object& config, const py::object& overrides) {
  Config c;
  if (py::isinstance<py::dict>(config))
    apply(c, config.cast<py::dict>(), "", "elbo.train config: ");
  else if (!config.is_none())
    c = Config::from_file(py::str(py::module_::import("os").attr("fspath")(config)));
  if (!overrides.is_none()) {
    ELBO_CHECK(py::isinstance<py::dict>(overrides), "elbo.train: overrides must be a dict (got ",
               std::string(py::str(py::type::of(overrides).attr("__name__"))), ")");
    apply(c, overrides.cast<py::dict>(), "", "elbo.train overrides: ");
  }
  return c;
}

/// Keeps torch's global generator as the caller left it: the run layer seeds it as the CLI does.
class KeepGlobalRng {
 public:
  KeepGlobalRng() : generator_(at::detail::getDefaultCPUGenerator()) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    state_ = generator_.get_state();
  }
  ~KeepGlobalRng() {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(state_);
  }
  KeepGlobalRng(const KeepGlobalRng&) = delete;
  KeepGlobalRng& operator=(const KeepGlobalRng&) = delete;

 private:
  at::Generator generator_;
  at::Tensor state_;
};

// ---- training ----

/// Passes metrics.jsonl's lines to a Python callable (GIL taken only for that) and lets Ctrl-C
/// interrupt training: KeyboardInterrupt is raised out of elbo.train; the last checkpoint stays
/// (elbo.train(..., resume=True) continues from it). An exception the callable raises stops training
/// too: at once, or for an "epoch" line once that epoch's checkpoint is written (stopping after N epochs).
class PythonProgress : public train::Callback {
 public:
  explicit PythonProgress(py::object callback) : callback_(std::move(callback)) {}
  void on_train_step(const std::string& description) override {
    call({{"type", "train_step"}, {"train_step", description}});
  }
  void on_batch(int64_t, int64_t, int64_t) override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_signal_check_ < std::chrono::milliseconds(100)) return;
    last_signal_check_ = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
  void on_step(const train::StepRecord& r) override { call(run::step_json(r)); }
  void on_epoch(const train::EpochRecord& r) override {
    try {
      call(run::epoch_json(r));
    } catch (const py::error_already_set&) {
      after_checkpoint_ = std::current_exception();  // the trainer writes the epoch's checkpoint next
    }
  }
  void on_checkpoint(const std::string&, int64_t) override {
    if (after_checkpoint_) std::rethrow_exception(std::exchange(after_checkpoint_, nullptr));
  }

 private:
  void call(const Json& line) {
    if (callback_.is_none()) return;
    py::gil_scoped_acquire gil;
    callback_(json_to_python(line));
  }
  py::object callback_;
  std::exception_ptr after_checkpoint_;
  std::chrono::steady_clock::time_point last_signal_check_{};
};

// ---- a run ----

/// A trained run (run::LoadedRun) with the CLI's generation and evaluation as methods.
class Run {
 public:
  explicit Run(run::LoadedRun run) : run_(std::move(run)) {}

  const run::LoadedRun& loaded() const { return run_; }

  py::object evaluate(std::optional<int64_t> k, std::optional<int64_t> n, bool gaps, bool mi, int64_t batch,
                      int64_t refine_steps) {
    ELBO_CHECK(!k || *k > 0, "Run.evaluate: k must be positive (got ", *k, ")");
    ELBO_CHECK(!n || *n >= 0, "Run.evaluate: n must be >= 0 (0 = every test example; got ", *n, ")");
    ELBO_CHECK(batch > 0 && refine_steps > 0, "Run.evaluate: batch and refine_steps must be positive");
    run::EvaluationOptions o;
    o.k = k.value_or(0);
    o.n = n.value_or(-1);
    o.batch_size = batch;
    o.gaps = gaps;
    o.refine_steps = refine_steps;
    o.information = mi;
    Json json;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      KeepGlobalRng keep;
      json = run::evaluate_run(run_, o).json;
    }
    return json_to_python(json);
  }

  py::tuple encode(const py::object& x, const py::object& y) {
    data::Batch batch = make_batch(x, y, "encode");
    torch::Tensor mean, scale;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      torch::NoGradGuard no_grad;
      const dist::DistributionPtr q = run_.model->posterior(batch);
      const auto* normal = dynamic_cast<const dist::Normal*>(q.get());
      ELBO_CHECK(normal, "Run.encode: this model's q(z | x) is ", q->name(), ", not a Normal with a mean and scale");
      mean = normal->mean();
      scale = normal->scale().expand_as(mean).contiguous();
    }
    return py::make_tuple(mean, scale);
  }

  torch::Tensor decode(const py::object& z, const py::object& y) {
    torch::Tensor codes = to_tensor(z);
    const int64_t d = run_.model->latent_dim();
    ELBO_CHECK(d > 0, "Run.decode: this model (", run_.model->describe(), ") has no per-example latent code");
    ELBO_CHECK(codes.dim() == 2 && codes.size(1) == d, "Run.decode: z must be [B, ", d, "] (latent codes), got ",
               codes.sizes());
    codes = codes.to(device(), torch::kFloat);
    const torch::Tensor labels = y.is_none() ? torch::Tensor() : to_tensor(y).to(device(), torch::kLong);
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    torch::NoGradGuard no_grad;
    return run_.model->likelihood(codes, labels)->mean();
  }

  torch::Tensor sample(int64_t n, int64_t seed) {
    ELBO_CHECK(n > 0, "Run.sample: n must be positive (got ", n, ")");
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    torch::NoGradGuard no_grad;
    KeepGlobalRng keep;
    seed_stream(static_cast<uint64_t>(seed), RngStream::evaluation);  // as elbo sample --seed
    return run_.model->likelihood(run_.model->sample_prior(n))->mean();
  }

  torch::Tensor reconstruct(const py::object& x, const py::object& y) {
    data::Batch batch = make_batch(x, y, "reconstruct");
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    torch::NoGradGuard no_grad;
    return run_.model->likelihood(run_.model->posterior(batch)->mean(), batch.y)->mean();
  }

  /// As elbo impute --data: x [N, D] in the data's units (NaN or mask 0 = missing); the run's
  /// standardization (data.standardize) applied and undone as the CLI does.
  py::dict impute(const py::object& x_object, const py::object& mask_object, std::optional<int64_t> k, int64_t draws,
                  int64_t seed) {
    ELBO_CHECK(!k || *k > 0, "Run.impute: k must be positive (got ", k.value_or(0), ")");
    ELBO_CHECK(draws > 0, "Run.impute: draws must be positive (got ", draws, ")");
    torch::Tensor x = to_tensor(x_object).to(torch::kFloat).cpu();
    const int64_t d = run_.model->features();
    ELBO_CHECK(x.dim() == 2 && x.size(1) == d, "Run.impute: x must be [N, ", d, "], got ", x.sizes());
    torch::Tensor mask = (~torch::isnan(x)).to(torch::kFloat);
    if (!mask_object.is_none()) {
      const torch::Tensor m = to_tensor(mask_object).cpu();
      ELBO_CHECK(m.sizes() == x.sizes(), "Run.impute: mask must be [", x.size(0), ", ", d, "] like x, got ", m.sizes());
      mask = mask * (m != 0).to(torch::kFloat);
    }
    ELBO_CHECK((mask == 0).any().item<bool>(), "Run.impute: x has no missing entries (NaN or mask 0)");
    data::Dataset rows;
    rows.name = "Run.impute x";
    rows.x = torch::nan_to_num(x, 0) * mask;
    rows.mask = mask;
    diag::Imputation imp;
    data::Standardization s;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      KeepGlobalRng keep;
      s = run::training_standardization(run_);
      if (s.mean.defined()) data::apply_standardization(rows, s);
      diag::ImputationOptions o;
      o.particles = k ? *k : run_.importance_samples();
      o.draws = draws;
      o.seed = static_cast<uint64_t>(seed);
      imp = diag::impute(*run_.model, rows, o);
    }
    py::dict out;
    out["draws"] = run::original_units(imp.draws, s);
    out["mean"] = run::original_units(imp.mean, s);
    out["effective_sample_size"] = imp.effective_sample_size;
    return out;
  }

  /// As elbo predict of a bnn or classifier run: x [N, F] in the data's units (None: the test split).
  py::dict predict(const py::object& x_object, std::optional<int64_t> draws_option, int64_t seed) {
    ELBO_CHECK(!draws_option || *draws_option > 0, "Run.predict: draws must be positive");
    const std::string& type = run_.family();
    ELBO_CHECK(type == "bnn" || type == "classifier", "Run.predict: '", run_.dir, "' holds a model.type = \"", type,
               "\" run, which has no predictive distribution; predict reads bnn and classifier runs (p(y | x))");
    torch::Tensor x;
    if (!x_object.is_none()) {
      x = to_tensor(x_object).to(torch::kFloat).cpu();
      ELBO_CHECK(x.dim() == 2 && x.size(1) == run_.model->features(), "Run.predict: x must be [N, ",
                 run_.model->features(), "], got ", x.sizes());
    }
    py::dict out;
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    KeepGlobalRng keep;
    torch::manual_seed(static_cast<uint64_t>(seed));
    const data::Splits splits = data::load_data(run_.config);
    data::Dataset rows = splits.test;
    if (x.defined()) {
      rows = data::Dataset();
      rows.name = "Run.predict x";
      rows.x = x;
      if (splits.standardization.mean.defined()) data::apply_standardization(rows, splits.standardization);
    }
    const int64_t draws = draws_option ? *draws_option : run_.weight_draws();
    auto* bnn = dynamic_cast<model::BnnImpl*>(run_.model.get());
    if (bnn) bnn->set_draws(draws);
    if (run_.model->has_classifier()) {
      const torch::Tensor log_p = diag::class_log_probabilities(*run_.model, rows);
      py::gil_scoped_acquire gil;
      out["probabilities"] = log_p.exp();
      return out;
    }
    ELBO_CHECK(bnn, "Run.predict: a ", type, " run has no predictive distribution p(y | x)");
    diag::RegressionPrediction p = diag::predict_regression(*bnn, rows, draws);
    run::to_original_units(p, splits.target_standardization);
    py::gil_scoped_acquire gil;
    out["mean"] = p.mean;
    out["sd"] = p.sd;
    out["quantiles"] = p.quantiles;
    return out;
  }

  /// As elbo forecast: `draws` sample paths of a brnn run `horizon` steps past its training rows.
  py::dict forecast(int64_t horizon, int64_t draws, int64_t seed) {
    run::Forecast f;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      KeepGlobalRng keep;
      f = run::forecast(run_, horizon, draws, static_cast<uint64_t>(seed), "Run.forecast");
    }
    std::vector<torch::Tensor> quantiles;
    for (const auto& scores : f.scores) quantiles.push_back(scores.quantiles);
    const torch::Tensor &paths = f.paths, &truth = f.truth;
    py::dict out;
    out["paths"] = paths;                          // [draws, horizon, C] in the file's units
    out["mean"] = paths.mean(0);                   // [horizon, C]
    out["quantiles"] = torch::stack(quantiles, 2); // [5, horizon, C] at 5/25/50/75/95%
    out["truth"] = truth;                          // [known, C] held-out rows after the training ones
    return out;
  }

  /// As elbo design: design.json's numbers as a dict, with "design_x" and "design_codes" (tensors) added.
  py::dict design(const std::string& property, const py::object& target, int64_t n, int64_t steps, double lr,
                  const std::string& start, int64_t seed) {
    run::DesignRequest r;
    r.property = property;
    if (py::isinstance<py::str>(target)) {
      ELBO_CHECK(target.cast<std::string>() == "max", "Run.design: target is a number or 'max' (got '",
                 target.cast<std::string>(), "')");
      r.maximize = true;
    } else {
      ELBO_CHECK(!target.is_none(), "Run.design: give a target (a number, or 'max')");
      r.target = target.cast<double>();
      ELBO_CHECK(std::isfinite(r.target), "Run.design: target must be finite");
    }
    ELBO_CHECK(n > 0 && steps >= 0 && lr > 0, "Run.design: n and lr must be positive, steps >= 0");
    ELBO_CHECK(start == "prior" || start == "encoded", "Run.design: start is 'prior' or 'encoded' (got '", start, "')");
    r.n = n;
    r.steps = steps;
    r.lr = lr;
    r.start = start;
    r.seed = static_cast<uint64_t>(seed);
    run::DesignResult result;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      KeepGlobalRng keep;
      result = run::design_run(run_, r);
    }
    py::dict out = json_to_python(result.json);
    out["design_x"] = result.designs.x;
    out["design_codes"] = result.designs.codes;
    return out;
  }

  py::dict state_dict() const {
    py::dict out;
    for (const auto& [name, t] : run::state_dict(run_)) out[py::str(name)] = t;
    return out;
  }

  void export_state_dict(const std::string& path) const {
    py::gil_scoped_release release;
    run::export_state_dict(run_, path);
  }

  std::string repr() const {
    return "<elbo.Run '" + run_.dir + "': " + run_.model->describe() + ", step " + std::to_string(run_.info.step) + ">";
  }

 private:
  c10::Device device() const {
    const auto parameters = run_.model->parameters();
    return parameters.empty() ? c10::Device(c10::kCPU) : parameters.front().device();
  }

  /// x as a batch of the model's input: [B, D], or images [B, C, H, W] ([B, H, W] for one channel);
  /// uint8 images read as k / 255 (as the data loader does), NaN entries as missing (mask 0); y: [B] labels.
  data::Batch make_batch(const py::object& x_object, const py::object& y, const char* method) const {
    torch::Tensor x = to_tensor(x_object);
    const int64_t d = run_.info.features;
    const ImageShape& image = run_.info.image;
    if (image.is_image() && (x.dim() == 4 || (x.dim() == 3 && image.channels == 1))) {
      const std::vector<int64_t> chw{image.channels, image.height, image.width}, hw{image.height, image.width};
      if (x.sizes().slice(1).vec() == (x.dim() == 4 ? chw : hw)) x = x.reshape({x.size(0), d});
    }
    ELBO_CHECK(x.dim() == 2 && x.size(1) == d, "Run.", method, ": x must be [B, ", d, "]",
               image.is_image() ? " or images [B, " + std::to_string(image.channels) + ", " + std::to_string(image.height) +
                                      ", " + std::to_string(image.width) + "]"
                                : std::string(),
               ", got ", x.sizes());
    data::Batch batch;
    batch.x = (x.scalar_type() == torch::kByte && image.is_image() ? data::scale_pixels(x) : x.to(torch::kFloat))
                  .to(device())
                  .contiguous();
    const torch::Tensor missing = torch::isnan(batch.x);
    if (missing.any().item<bool>()) batch.mask = (~missing).to(torch::kFloat);
    if (!y.is_none()) {
      batch.y = to_tensor(y).to(device(), torch::kLong);
      ELBO_CHECK(batch.y.dim() == 1 && batch.y.size(0) == batch.x.size(0), "Run.", method, ": y must be [",
                 batch.x.size(0), "] labels (one per row of x), got ", batch.y.sizes());
    }
    return batch;
  }

  run::LoadedRun run_;
  std::mutex mutex_;  // one call at a time into the model (the GIL is released while it computes)
};

std::shared_ptr<Run> load_run(const py::object& dir) {
  const std::string path = py::str(py::module_::import("os").attr("fspath")(dir));
  py::gil_scoped_release release;
  return std::make_shared<Run>(run::load_run(path));
}

std::shared_ptr<Run> train_run(const py::object& config, const py::object& overrides, const py::object& out,
                           const py::object& progress, bool resume) {
  Config c = make_config(config, overrides);
  const std::string dir = py::str(py::module_::import("os").attr("fspath")(out));
  if (resume) {
    train::CheckpointInfo info;
    c = run::resumed_config(c, !config.is_none() || !overrides.is_none(), dir, info);
  }
  PythonProgress callback(progress);
  run::TrainRunOptions options;
  options.resume = resume;
  options.progress = &callback;
  {
    py::gil_scoped_release release;
    KeepGlobalRng keep;
    run::train_run(c, dir, options);
  }
  return load_run(out);
}

// ---- distributions on tensors ----

torch::Tensor positive_scale(const py::handle& scale, const char* function) {
  const torch::Tensor s = to_tensor(scale);
  ELBO_CHECK(s.is_floating_point() || s.scalar_type() == torch::kLong || s.scalar_type() == torch::kInt, function,
             ": scale must be a real tensor (got ", s.scalar_type(), ")");
  ELBO_CHECK((s > 0).all().item<bool>(), function, ": every scale must be positive");
  return s.is_floating_point() ? s : s.to(torch::kFloat);
}

torch::Tensor real(const py::handle& t) {
  torch::Tensor v = to_tensor(t);
  return v.is_floating_point() ? v : v.to(torch::kFloat);
}

/// The common shape of `a` and `b`, or a ValueError naming both.
void check_broadcast(const torch::Tensor& a, const torch::Tensor& b, const char* function) {
  try {
    at::infer_size(a.sizes(), b.sizes());
  } catch (const c10::Error&) {
    throw std::invalid_argument(detail::concat(function, ": shapes ", a.sizes(), " and ", b.sizes(), " do not broadcast"));
  }
}

torch::Tensor normal_log_prob(const py::object& x, const py::object& loc, const py::object& scale) {
  torch::Tensor v = real(x), m = real(loc), s = positive_scale(scale, "elbo.normal_log_prob");
  check_broadcast(m, s, "elbo.normal_log_prob");
  check_broadcast(v, m + s, "elbo.normal_log_prob");
  const auto shape = at::infer_size(v.sizes(), at::infer_size(m.sizes(), s.sizes()));
  return dist::Normal(m.expand(shape), s.log().expand(shape)).log_prob_elements(v.expand(shape));
}

torch::Tensor kl_normal(const py::object& loc_q, const py::object& scale_q, const py::object& loc_p,
                        const py::object& scale_p) {
  torch::Tensor mq = real(loc_q), sq = positive_scale(scale_q, "elbo.kl_normal");
  torch::Tensor mp = real(loc_p), sp = positive_scale(scale_p, "elbo.kl_normal");
  check_broadcast(mq, sq, "elbo.kl_normal (q)");
  check_broadcast(mp, sp, "elbo.kl_normal (p)");
  check_broadcast(mq + sq, mp + sp, "elbo.kl_normal (q against p)");
  const auto shape = at::infer_size(at::infer_size(mq.sizes(), sq.sizes()), at::infer_size(mp.sizes(), sp.sizes()));
  return dist::kl_elements(dist::Normal(mq.expand(shape), sq.log().expand(shape)),
                           dist::Normal(mp.expand(shape), sp.log().expand(shape)));
}

torch::Tensor bernoulli_log_prob(const py::object& x, const py::object& logits) {
  torch::Tensor v = real(x), l = real(logits);
  check_broadcast(v, l, "elbo.bernoulli_log_prob");
  const auto shape = at::infer_size(v.sizes(), l.sizes());
  return dist::Bernoulli(l.expand(shape)).log_prob_elements(v.expand(shape));
}

torch::Tensor kl_bernoulli(const py::object& logits_q, const py::object& logits_p) {
  torch::Tensor q = real(logits_q), p = real(logits_p);
  check_broadcast(q, p, "elbo.kl_bernoulli");
  const auto shape = at::infer_size(q.sizes(), p.sizes());
  return dist::kl_elements(dist::Bernoulli(q.expand(shape)), dist::Bernoulli(p.expand(shape)));
}

}  // namespace
}  // namespace elbo::python

PYBIND11_MODULE(elbo, m) {
  using namespace elbo::python;
  // torch's Python types, before any tensor crosses; it must be the LibTorch this module links.
  py::object torch_module;
  try {
    torch_module = py::module_::import("torch");
  } catch (const py::error_already_set& e) {
    throw py::import_error(std::string("import elbo: cannot import torch (") + e.what() + "); elbo is built for " +
                           ELBO_PYTHON_EXECUTABLE + " and Debian's python3-torch");
  }
  const py::module_ path = py::module_::import("os.path");
  const std::string loaded = py::str(path.attr("realpath")(path.attr("join")(
      path.attr("dirname")(torch_module.attr("__file__")), "lib", "libtorch_cpu.so")));
  if (loaded != ELBO_TORCH_CPU_LIBRARY)
    throw py::import_error("import elbo: this torch loads " + loaded + ", elbo was built against " +
                           ELBO_TORCH_CPU_LIBRARY + " (Debian's python3-torch, for " + ELBO_PYTHON_EXECUTABLE + ")");
  m.doc() = "ELBO-based variational inference: train, load and evaluate elbo runs; decode, encode, sample.";
  m.attr("__version__") = "0.1.0";

  // The CLI's messages: bad input is ValueError (pybind11 maps std::invalid_argument so), a numerical
  // failure (non-finite loss, std::domain_error) FloatingPointError, LibTorch's errors RuntimeError without
  // their C++ backtrace.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::domain_error& e) {
      PyErr_SetString(PyExc_FloatingPointError, e.what());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });

  py::class_<Run, std::shared_ptr<Run>>(m, "Run", "A trained run directory (elbo.train or elbo.load).")
      .def_property_readonly("dir", [](const Run& r) { return r.loaded().dir; })
      .def_property_readonly("config", [](const Run& r) { return json_to_python(elbo::run::export_metadata(r.loaded())["config"]); },
                             "every config key, nested by section: run.config['model']['hidden']")
      .def_property_readonly("config_toml", [](const Run& r) { return r.loaded().config.to_toml(); })
      .def_property_readonly("step", [](const Run& r) { return r.loaded().info.step; })
      .def_property_readonly("epoch", [](const Run& r) { return r.loaded().info.epoch; })
      .def_property_readonly("features", [](const Run& r) { return r.loaded().info.features; })
      .def_property_readonly("latent_dim", [](const Run& r) { return r.loaded().model->latent_dim(); })
      .def_property_readonly("description", [](const Run& r) { return r.loaded().model->describe(); })
      .def("evaluate", &Run::evaluate, py::arg("k") = py::none(), py::arg("n") = py::none(), py::arg("gaps") = false,
           py::arg("mi") = false, py::arg("batch") = 100, py::arg("refine_steps") = 1000,
           "The scores of `elbo evaluate RUN --json` as a dict (same numbers; also rewrites RUN/evaluation.json and "
           "RUN/report.html, as elbo evaluate does). k, n: None = the run's eval.k and eval.n (1000, 1000 by default); "
           "n = 0: every test example. gaps: approximation and amortization gaps; mi: I(x;z), rate, distortion.")
      .def("encode", &Run::encode, py::arg("x"), py::arg("y") = py::none(),
           "q(z | x) of x [B, D] (images also [B, C, H, W]; uint8 images as k / 255; NaN = missing): (mean, scale), "
           "two [B, latent_dim] tensors. y: labels [B] of a conditional model.")
      .def("decode", &Run::decode, py::arg("z"), py::arg("y") = py::none(),
           "The mean of p(x | z) for codes z [B, latent_dim]: [B, D] (a categorical likelihood: [B, L, C] probabilities).")
      .def("sample", &Run::sample, py::arg("n"), py::arg("seed") = 1,
           "Means of p(x | z) for n draws z of the prior, as `elbo sample --n N --seed SEED` decodes them: [n, D].")
      .def("reconstruct", &Run::reconstruct, py::arg("x"), py::arg("y") = py::none(),
           "The mean of p(x | z) at z = the posterior mean of x, as `elbo reconstruct`: [B, D].")
      .def("impute", &Run::impute, py::arg("x"), py::arg("mask") = py::none(), py::arg("k") = py::none(),
           py::arg("draws") = 100, py::arg("seed") = 1,
           "Multiple imputation of x [N, D] (the data's units; NaN or mask 0 = missing), as `elbo impute --data`: "
           "{'draws': [draws, N, D] completed copies, 'mean': [N, D], 'effective_sample_size': [N]}. k: None = eval.k.")
      .def("predict", &Run::predict, py::arg("x") = py::none(), py::arg("draws") = py::none(), py::arg("seed") = 1,
           "p(y | x) of a bnn or classifier run for rows x [N, F] (None: the test split), as `elbo predict`: "
           "{'probabilities': [N, classes]} or {'mean', 'sd': [N, T], 'quantiles': [5, N, T]}.")
      .def("forecast", &Run::forecast, py::arg("horizon"), py::arg("draws") = 1000, py::arg("seed") = 1,
           "Sample paths of a brnn series run past its training rows, as `elbo forecast`: {'paths': [draws, horizon, C], "
           "'mean': [horizon, C], 'quantiles': [5, horizon, C], 'truth': [held-out rows, C]} in the file's units.")
      .def("design", &Run::design, py::arg("property"), py::arg("target"), py::arg("n") = 64, py::arg("steps") = 300,
           py::arg("lr") = 0.05, py::arg("start") = "prior", py::arg("seed") = 1,
           "Inverse design as `elbo design`: design.json's numbers as a dict, plus 'design_x' (the decoded designs) and "
           "'design_codes' ([n, latent_dim]). target: a number or 'max'.")
      .def("state_dict", &Run::state_dict,
           "The model's parameters and buffers by name (the tensors of `elbo export --format state_dict`), sharing "
           "the model's memory: clone() one before changing it.")
      .def("export", &Run::export_state_dict, py::arg("path"),
           "Writes the state dict to path (torch.load reads it) and the config to path with .json (docs/CHECKPOINT.md).")
      .def("__repr__", &Run::repr);

  m.def("load", &load_run, py::arg("run_dir"), "Loads a run directory written by elbo train (or elbo.train).");
  m.def("train", &train_run, py::arg("config") = py::none(), py::arg("overrides") = py::none(),
        py::arg("out") = "runs/default", py::arg("progress") = py::none(), py::arg("resume") = false,
        "Trains a run as `elbo train` does (checkpoint, metrics.jsonl, evaluation, report) into `out` and returns it.\n"
        "config: a TOML file's path, a dict ({'train': {'epochs': 3}} or {'train.epochs': 3}), or None (the defaults);\n"
        "overrides: a dict applied after it (--set). progress: called with each metrics.jsonl line as a dict\n"
        "('type': 'step' every train.log_every steps, 'epoch' after each epoch); an exception it raises stops training\n"
        "(for an 'epoch' line, after that epoch's checkpoint). The GIL is released while training; Ctrl-C raises\n"
        "KeyboardInterrupt. The last checkpoint stays: resume=True continues from it (config None: the stored one).");
  m.def("normal_log_prob", &normal_log_prob, py::arg("x"), py::arg("loc"), py::arg("scale"),
        "log N(x; loc, scale^2) per element (broadcast), differentiable.");
  m.def("kl_normal", &kl_normal, py::arg("loc_q"), py::arg("scale_q"), py::arg("loc_p") = 0.0,
        py::arg("scale_p") = 1.0, "KL(N(loc_q, scale_q^2) || N(loc_p, scale_p^2)) per element (closed form), differentiable.");
  m.def("bernoulli_log_prob", &bernoulli_log_prob, py::arg("x"), py::arg("logits"),
        "x * logits - softplus(logits) per element: log Bernoulli(x; sigmoid(logits)), also for x in [0, 1].");
  m.def("kl_bernoulli", &kl_bernoulli, py::arg("logits_q"), py::arg("logits_p"),
        "KL(Bernoulli(sigmoid(logits_q)) || Bernoulli(sigmoid(logits_p))) per element, differentiable.");
}
