#include "elbo/run/memory_estimate.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/data/load.h"
#include "elbo/model/bnn.h"
#include "elbo/model/brnn.h"
#include "elbo/model/crystal_vae.h"
#include "elbo/model/hierarchical_vae.h"
#include "elbo/model/m2.h"
#include "elbo/model/multimodal_vae.h"
#include "elbo/model/vae.h"

#include <algorithm>
#include <iomanip>
#include <numeric>
#include <set>
#include <sstream>

namespace elbo::run {
namespace {

constexpr double kFloat = 4;  // bytes of a float32

/// Parameters and training activations (in floats) of a network, accumulated layer by layer.
struct Net {
  double params = 0;
  double activations = 0;
  std::string keys;  ///< what sizes it

  void linear(double in, double out, double rows, double saved) {
    params += in * out + out;
    activations += rows * out * saved;
  }
  /// An MLP in -> hidden... -> out over `rows` rows; `likelihood`: its output feeds log p(x|z).
  void mlp(double in, const std::vector<int64_t>& hidden, double out, double rows, bool likelihood = false) {
    for (int64_t h : hidden) {
      linear(in, static_cast<double>(h), rows, 3);
      in = static_cast<double>(h);
    }
    linear(in, out, rows, likelihood ? 4 : 2);
  }
  /// A likelihood's learned scales (gaussian, laplace, negative_binomial unless fixed).
  void likelihood_scale(const std::string& kind, const std::string& mode, double features) {
    if ((kind == "gaussian" || kind == "laplace" || kind == "negative_binomial") && mode != "fixed")
      params += mode == "per_feature" ? features : 1;
  }
};

std::vector<int64_t> reversed(const std::vector<int64_t>& v) { return {v.rbegin(), v.rend()}; }

double raw_per_feature(const std::string& likelihood, int64_t categories) {
  return likelihood == "categorical" ? static_cast<double>(categories) : 1.0;
}

Net vae(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::VaeOptions o = model::VaeOptions::from_config(c, schema.features(), schema.image);
  Net n;
  const double D = static_cast<double>(o.features), latent = static_cast<double>(o.latent_dim),
               classes = static_cast<double>(o.classes), rows = batch * particles;
  const bool categorical = o.likelihood == "categorical";
  const double symbols = (categorical ? o.categories : 1) * (o.encoder_mask ? 2 : 1);
  const double emitted = o.context > 0 ? static_cast<double>(o.channels.front()) : raw_per_feature(o.likelihood, o.categories);
  n.likelihood_scale(o.likelihood, o.likelihood_scale, D);
  if (o.context > 0) {
    const double h = static_cast<double>(o.context_hidden), k = static_cast<double>(o.categories);
    n.linear(emitted, h, rows * D, 3);
    n.params += k * h * static_cast<double>(o.context);  // causal convolution, no bias
    n.activations += rows * D * h * 3;
    n.linear(h, h, rows * D, 3);
    n.linear(h, k, rows * D, 4);
  }
  const auto& ch = o.channels;
  if (o.encoder == "conv") {
    double in = static_cast<double>(o.image.channels * (o.encoder_mask ? 2 : 1)), h = static_cast<double>(o.image.height),
           w = static_cast<double>(o.image.width);
    int64_t hi = o.image.height, wi = o.image.width;
    for (int64_t out : ch) {
      hi /= 2, wi /= 2, h = static_cast<double>(hi), w = static_cast<double>(wi);
      n.params += in * static_cast<double>(out) * 16 + static_cast<double>(out);
      n.activations += batch * static_cast<double>(out) * h * w * 3;
      in = static_cast<double>(out);
    }
    n.linear(in * h * w, 2 * latent, batch, 2);
  } else if (o.encoder == "conv1d") {
    double in = symbols;
    int64_t length = o.features;
    for (int64_t out : ch) {
      length = (length + 1) / 2;
      n.params += in * static_cast<double>(out * o.kernel) + static_cast<double>(out);
      n.activations += batch * static_cast<double>(out * length) * 3;
      in = static_cast<double>(out);
    }
    n.linear(in * static_cast<double>(length), 2 * latent, batch, 2);
  } else {
    n.mlp(D * symbols + classes, o.encoder_hidden.empty() ? o.hidden : o.encoder_hidden, 2 * latent, batch);
  }
  const size_t layers = ch.size();
  if (o.decoder == "conv") {
    std::vector<int64_t> hs{o.image.height}, ws{o.image.width};
    for (size_t i = 0; i < layers; ++i) hs.push_back(hs.back() / 2), ws.push_back(ws.back() / 2);
    n.linear(latent + classes, static_cast<double>(ch.back() * hs.back() * ws.back()), rows, 3);
    for (size_t i = 0; i < layers; ++i) {
      const bool last = i + 1 == layers;
      const double in = static_cast<double>(ch[layers - 1 - i]),
                   out = last ? emitted * static_cast<double>(o.image.channels) : static_cast<double>(ch[layers - 2 - i]);
      n.params += in * out * 16 + out;
      n.activations += rows * out * static_cast<double>(hs[layers - 1 - i] * ws[layers - 1 - i]) * (last ? 4 : 3);
    }
  } else if (o.decoder == "conv1d") {
    std::vector<int64_t> lengths{o.features};
    for (size_t i = 0; i < layers; ++i) lengths.push_back((lengths.back() + 1) / 2);
    n.linear(latent + classes, static_cast<double>(ch.back() * lengths.back()), rows, 3);
    for (size_t i = 0; i < layers; ++i) {
      const bool last = i + 1 == layers;
      const double in = static_cast<double>(ch[layers - 1 - i]), out = last ? emitted : static_cast<double>(ch[layers - 2 - i]);
      n.params += in * out * static_cast<double>(o.kernel) + out;
      n.activations += rows * out * static_cast<double>(lengths[layers - 1 - i]) * (last ? 4 : 3);
    }
  } else {
    n.mlp(latent + classes, reversed(o.hidden), D * emitted, rows, /*likelihood=*/true);
  }
  n.keys = o.encoder == "mlp" && o.decoder == "mlp" ? "model.hidden, model.encoder_hidden, model.latent_dim"
                                                    : "model.channels, model.hidden, model.latent_dim";
  if (o.context > 0) n.keys += ", model.context_hidden";
  return n;
}

Net hvae(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::HierarchicalVaeOptions o = model::HierarchicalVaeOptions::from_config(c, schema.features());
  Net n;
  const auto& d = o.latent_dims;
  const double D = static_cast<double>(o.features), rows = batch * particles;
  const bool structured = o.inference == "structured";
  const double total = static_cast<double>(std::accumulate(d.begin(), d.end(), int64_t{0}));
  n.likelihood_scale(o.likelihood, o.likelihood_scale, D);
  n.mlp(D * (o.encoder_mask ? 2 : 1), o.encoder_hidden.empty() ? o.hidden : o.encoder_hidden,
        2 * (structured ? static_cast<double>(d[0]) : total), batch);
  for (size_t l = 0; l + 1 < d.size(); ++l) {
    if (structured) n.mlp(static_cast<double>(d[l]), o.hidden, 2.0 * static_cast<double>(d[l + 1]), rows);
    n.mlp(static_cast<double>(d[l + 1]), o.hidden, 2.0 * static_cast<double>(d[l]), rows);
  }
  n.mlp(static_cast<double>(d[0]), reversed(o.hidden), D * raw_per_feature(o.likelihood, o.categories), rows, true);
  n.keys = "model.hidden, model.encoder_hidden, model.latent_dims";
  return n;
}

Net m2(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::M2Options o = model::M2Options::from_config(c, schema.features(), c.get_int("model.classes"));
  Net n;
  const double D = static_cast<double>(o.features), C = static_cast<double>(o.classes),
               latent = static_cast<double>(o.latent_dim);
  n.likelihood_scale(o.likelihood, o.likelihood_scale, D);
  n.mlp(D, o.hidden, C, batch);
  n.mlp(D + C, o.hidden, 2 * latent, C * batch);  // every class of every row (enumerated)
  n.mlp(latent + C, reversed(o.hidden), D * raw_per_feature(o.likelihood, o.categories), C * batch * particles, true);
  n.keys = "model.hidden, model.latent_dim, model.classes";
  return n;
}

Net multimodal(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::MultimodalVaeOptions o = model::MultimodalVaeOptions::from_config(c, schema);
  Net n;
  const double latent = static_cast<double>(o.latent_dim);
  const double copies = 1 + (o.subsets ? static_cast<double>(o.modalities.size()) : 0) + static_cast<double>(o.random_subsets);
  for (const auto& m : o.modalities) {
    const auto& widths = m.hidden.empty() ? o.hidden : m.hidden;
    const double W = static_cast<double>(m.width);
    const double values = m.likelihood == "categorical" ? W * static_cast<double>(m.categories) : W;
    n.likelihood_scale(m.likelihood, o.likelihood_scale, W);
    n.mlp(values + (o.encoder_mask ? W : 0), widths, 2 * latent, batch * copies);
    n.mlp(latent, reversed(widths), W * raw_per_feature(m.likelihood, std::max<int64_t>(m.categories, 2)),
          batch * particles * copies, true);
  }
  n.keys = "model.hidden, data.modalities[].hidden, model.latent_dim, objective.subsets, objective.random_subsets";
  return n;
}

/// A Bayesian layer of `weights` weights and biases with `out` outputs per row: a mean and a rho
/// per weight; pre-activation means and variances per row (local reparameterization) or one
/// weight draw per particle (the draw only: its noise is remade in the backward pass).
void bayesian_layer(Net& n, double weights, double out, double rows, double particles, bool draws, double saved) {
  n.params += 2 * weights;
  n.activations += rows * out * 2 * saved;
  if (draws) n.activations += particles * weights;
}
void bayesian_linear(Net& n, double in, double out, double rows, double particles, bool draws, double saved) {
  bayesian_layer(n, in * out + out, out, rows, particles, draws, saved);
}

Net bnn(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::BnnOptions o = model::BnnOptions::from_config(c, schema);
  Net n;
  const bool draws = o.layers.sampling == nn::WeightSampling::weights;
  double in = static_cast<double>(o.features);
  if (!o.channels.empty()) {  // 4x4 stride-2 convolutions, each halving H and W
    double channels = static_cast<double>(o.image.channels);
    int64_t height = o.image.height, width = o.image.width;
    for (int64_t c : o.channels) {
      height /= 2, width /= 2;
      const double out = static_cast<double>(c), sites = static_cast<double>(height * width);
      bayesian_layer(n, channels * out * 16 + out, out * sites, batch * particles, particles, draws, 3);
      channels = out;
    }
    in = channels * static_cast<double>(height * width);
  }
  for (int64_t h : o.hidden) {
    bayesian_linear(n, in, static_cast<double>(h), batch * particles, particles, draws, 3);
    in = static_cast<double>(h);
  }
  bayesian_linear(n, in, static_cast<double>(o.outputs), batch * particles, particles, draws, 4);
  if (!o.classification) n.params += static_cast<double>(o.outputs);
  n.keys = o.channels.empty() ? "model.hidden, model.weights.sampling" : "model.channels, model.hidden, model.weights.sampling";
  return n;
}

Net brnn(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::BrnnOptions o = model::BrnnOptions::from_config(c, schema);
  Net n;
  const double C = static_cast<double>(o.channels), H = static_cast<double>(o.hidden),
               steps = batch * particles * static_cast<double>(o.window);
  bayesian_linear(n, C, 3 * H, steps, particles, true, 3);  // weights drawn once per particle
  bayesian_linear(n, H, 3 * H, steps, particles, true, 3);
  bayesian_linear(n, H, 2 * C, steps, particles, true, 4);
  n.keys = "model.hidden, data.window";
  return n;
}

/// A crystal VAE (model/crystal_vae.h): parameters counted on the built model (small); activations of
/// the per-atom network over B x N atoms, the pooled network, the decoder's hidden layers over K x B
/// rows and its 12 + 105 N outputs per row, about 4 copies of them (the species' log-softmax and gather).
Net crystal(const Config& c, const data::Schema& schema, double batch, double particles) {
  const model::CrystalVaeOptions o = model::CrystalVaeOptions::from_config(c, schema);
  Net n;
  for (const auto& p : model::CrystalVae(o)->parameters()) n.params += static_cast<double>(p.numel());
  double hidden = 0;
  for (int64_t h : o.hidden) hidden += static_cast<double>(h);
  const double atoms = static_cast<double>(o.max_atoms), rows = batch * particles;
  n.activations = 3 * hidden * batch * (atoms + 1) + 3 * hidden * rows + 4 * rows * (12 + 105 * atoms);
  n.keys = "model.hidden, data.max_atoms, model.latent_dim";
  return n;
}

Net network(const Config& c, const data::Schema& schema, double batch, double particles) {
  const std::string& type = c.get_string("model.type");
  if (type == "crystal") return crystal(c, schema, batch, particles);
  if (type == "hvae") return hvae(c, schema, batch, particles);
  if (type == "m2") return m2(c, schema, batch, particles);
  if (type == "multimodal") return multimodal(c, schema, batch, particles);
  if (type == "bnn") return bnn(c, schema, batch, particles);
  if (type == "brnn") {  // as model::make_model says it, before the options read the windows
    ELBO_CHECK(c.get_string("data.format") == "series", "model.type = \"brnn\" reads windows of a time series: "
               "set data.format = \"series\"");
    return brnn(c, schema, batch, particles);
  }
  if (type == "classifier") {
    Net n;
    n.mlp(static_cast<double>(schema.features()), c.get_ints("model.hidden"), static_cast<double>(c.get_int("model.classes")),
          batch, true);
    n.keys = "model.hidden, model.classes";
    return n;
  }
  ELBO_CHECK(type == "vae", "model.type '", type, "' is not one of: vae, hvae, m2, classifier, multimodal, bnn, brnn, crystal");
  return vae(c, schema, batch, particles);
}

int64_t bytes(double floats) { return static_cast<int64_t>(floats * kFloat); }

}  // namespace

int64_t MemoryEstimate::total() const {
  int64_t t = 0;
  for (const auto& p : parts) t += p.bytes;
  return t;
}

int64_t MemoryEstimate::increment() const {
  int64_t t = 0;
  for (const auto& p : parts)
    if (p.name != "baseline") t += p.bytes;
  return t;
}

std::string MemoryEstimate::table() const {
  std::ostringstream out;
  for (const auto& p : parts)
    out << "  " << std::left << std::setw(12) << p.name << std::right << std::setw(12) << format_bytes(static_cast<double>(p.bytes))
        << "  " << p.keys << "\n";
  out << "  " << std::left << std::setw(12) << "total" << std::right << std::setw(12)
      << format_bytes(static_cast<double>(total())) << "  (" << parameters << " parameters)\n";
  return out.str();
}

Json MemoryEstimate::json() const {
  Json parts_json = Json::object();
  for (const auto& p : parts) parts_json[p.name] = p.bytes;
  return Json{{"parameters", parameters}, {"total_bytes", total()}, {"increment_bytes", increment()}, {"parts", parts_json}};
}

int64_t parameter_count(const Config& config, const data::Schema& schema) {
  return static_cast<int64_t>(network(config, schema, 1, 1).params);
}

MemoryEstimate estimate_training_memory(const Config& config, const data::Schema& schema, int64_t data_bytes,
                                        int64_t baseline_bytes) {
  const double batch = static_cast<double>(config.get_int("train.batch_size")),
               particles = static_cast<double>(config.get_int("objective.particles"));
  const Net n = network(config, schema, batch, particles);
  MemoryEstimate e;
  e.parameters = static_cast<int64_t>(n.params);
  const std::string size = n.keys + ", data features (" + std::to_string(schema.features()) + ")";
  e.parts = {{"baseline", std::max<int64_t>(0, baseline_bytes), "this process before the run (LibTorch, measured)"},
             {"data", std::max<int64_t>(0, data_bytes), "the data set and its reader's buffers (data.*, measured)"},
             {"parameters", bytes(n.params), size},
             {"gradients", bytes(n.params), size},
             {"adam", bytes(2 * n.params), size},
             {"activations", bytes(n.activations + batch * static_cast<double>(schema.features()) * 2),
              "train.batch_size, objective.particles, " + n.keys},
             {"transient", bytes(n.params), size}};
  return e;
}

MemoryEstimate estimate_model_memory(const Config& config, const data::Schema& schema) {
  const Net n = network(config, schema, 1, 1);
  MemoryEstimate e;
  e.parameters = static_cast<int64_t>(n.params);
  e.parts = {{"parameters", bytes(n.params), n.keys + ", data features (" + std::to_string(schema.features()) + ")"}};
  return e;
}

void check_memory(const MemoryEstimate& estimate, const AvailableMemory& available, const std::string& who) {
  if (available.bytes < 0 || estimate.increment() <= available.bytes) return;
  std::vector<MemoryPart> parts;
  for (const auto& p : estimate.parts)
    if (p.name != "baseline") parts.push_back(p);
  std::sort(parts.begin(), parts.end(), [](const MemoryPart& a, const MemoryPart& b) { return a.bytes > b.bytes; });
  std::string largest;
  for (size_t i = 0; i < parts.size() && i < 3; ++i)
    largest += (i ? ", " : "") + parts[i].name + " " + format_bytes(static_cast<double>(parts[i].bytes));
  throw std::invalid_argument(detail::concat(
      who, ": not enough memory: the run needs about ", format_bytes(static_cast<double>(estimate.increment())), " (",
      estimate.parameters, " parameters), but only ", format_bytes(static_cast<double>(available.bytes)), " is available (",
      available.source, "); largest parts: ", largest, ", sized by ", parts.front().keys,
      ". Make those smaller, or set train.memory_check = false to try anyway "
      "(elbo config --estimate CONFIG prints the whole estimate)"));
}

int64_t splits_bytes(const data::Splits& splits) {
  std::set<const void*> seen;  // views (validation split, data.max_train) share their storage
  int64_t total = 0;
  for (const data::Dataset* d : {&splits.train, &splits.validation, &splits.test})
    for (const torch::Tensor* t : {&d->x, &d->mask, &d->y, &d->y_mask, &d->target, &d->hidden, &d->factors})
      if (t->defined() && t->has_storage() && seen.insert(t->storage().data()).second)
        total += static_cast<int64_t>(t->storage().nbytes());
  return total;
}

int64_t data_footprint(const data::Splits& splits, int64_t resident_before) {
  const int64_t now = resident_bytes();
  return std::max(splits_bytes(splits), resident_before >= 0 && now >= 0 ? now - resident_before : int64_t{0});
}

void write_memory_record(const std::string& path, const MemoryEstimate& estimate, const AvailableMemory& available,
                         int64_t peak_rss_bytes) {
  Json j = estimate.json();
  j["available_bytes"] = available.bytes;
  j["available_source"] = available.source;
  j["peak_rss_bytes"] = peak_rss_bytes;
  j["peak_rss_source"] = "VmHWM of the training process after training, before evaluation";
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace elbo::run
