#include "elbo/run/design.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/load.h"
#include "elbo/diag/collapse.h"
#include "elbo/diag/evidence.h"
#include "elbo/diag/refine.h"
#include "elbo/diag/sequence_property.h"
#include "elbo/run/crystals.h"
#include "elbo/run/summaries.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <sstream>

namespace elbo::run {
namespace {

using torch::Tensor;

constexpr const char* kFn = "elbo design";

/// Counters of the evaluation stream for each draw of a design run.
enum Draw : uint64_t { kFitSubset = 0x64650001, kStart, kReference, kDecode, kEvidence, kFitPrior, kFitDecode };

c10::Device model_device(model::Model& model) {
  const auto params = model.parameters();
  return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

/// E_q[z | x] [N, D] of every example (float32, CPU).
Tensor encode_means(model::Model& model, const data::Dataset& d) {
  return diag::amortized_posterior(model, d, 500)->mean().to(torch::kFloat);
}

/// Codes [n, D] decoded as designs are: one draw of the bases (DNA), else the most probable row (crystals: the
/// most probable count and elements, the location of every lattice feature and coordinate); CPU, in blocks.
Tensor decode_codes(model::Model& model, const Tensor& codes, bool draw) {
  torch::NoGradGuard no_grad;
  const c10::Device device = model_device(model);
  std::vector<Tensor> parts;
  for (int64_t begin = 0; begin < codes.size(0); begin += 1024) {
    const Tensor block = codes.slice(0, begin, std::min(codes.size(0), begin + 1024));
    const dist::DistributionPtr p = model.likelihood(block.to(device));
    parts.push_back((draw ? p->sample() : p->mean()).to(torch::kCPU));
  }
  return torch::cat(parts);
}

/// Names of the target columns: the cells of data.target_columns when there is one per column, else target1..T.
std::vector<std::string> target_names(const Config& config, int64_t columns) {
  std::vector<std::string> names;
  std::istringstream in(config.get_string("data.target_columns"));
  for (std::string cell; std::getline(in, cell, ',');) {
    const auto a = cell.find_first_not_of(" \t"), b = cell.find_last_not_of(" \t");
    if (a != std::string::npos) names.push_back(cell.substr(a, b - a + 1));
  }
  if (static_cast<int64_t>(names.size()) != columns) {
    names.clear();
    for (int64_t j = 0; j < columns; ++j) names.push_back("target" + std::to_string(j + 1));
  }
  return names;
}

/// Hamming distance (fraction of positions) of each design [n, L] to its nearest training window [N, L]
/// (masked training bases count as mismatches): one-hot matches by matrix products over chunks of the set.
Tensor novelty(const Tensor& designs, const data::Dataset& train) {
  torch::NoGradGuard no_grad;
  const int64_t length = designs.size(1);
  const Tensor d = torch::one_hot(designs.to(torch::kLong), 4).reshape({designs.size(0), -1}).to(torch::kFloat);
  Tensor best = torch::zeros({designs.size(0)}, torch::kFloat);
  for (int64_t begin = 0; begin < train.size(); begin += 4096) {
    const int64_t end = std::min(train.size(), begin + 4096);
    Tensor t = torch::one_hot(train.x.slice(0, begin, end).to(torch::kLong), 4).to(torch::kFloat);
    if (train.mask.defined()) t = t * train.mask.slice(0, begin, end).to(torch::kFloat).unsqueeze(-1);
    best = torch::maximum(best, std::get<0>(d.matmul(t.reshape({end - begin, -1}).t()).max(1)));
  }
  return 1.0 - best.to(torch::kDouble) / static_cast<double>(length);
}

/// -ELBO and -log p̂(x) in bits per known base of windows x [n, L] (mask [n, L] or undefined).
void bits_per_base(model::Model& model, const Tensor& x, const Tensor& mask, const DesignRequest& r, DesignGroup& g) {
  data::Dataset d;
  d.x = x.to(torch::kFloat);
  d.mask = mask;
  d.alphabet = "ACGT";
  diag::EvidenceOptions o;
  o.k = r.k;
  o.seed = mix_seed(r.seed, RngStream::evaluation, kEvidence);
  const diag::Evidence e = diag::estimate_evidence(model, d, o);
  const Tensor bases = (mask.defined() ? (mask != 0).sum(1) : torch::full({x.size(0)}, x.size(1))).to(torch::kDouble);
  g.bits = -e.elbo.to(torch::kDouble) / (bases * std::log(2.0));
  g.iwae_bits = -e.log_px.to(torch::kDouble) / (bases * std::log(2.0));
}

Json group_json(const DesignGroup& g, bool with_values) {
  Json j = {{"property", mean_sd(g.property)},
            {"predicted", mean_sd(g.predicted)},
            {"bits_per_base", mean_sd(g.bits)},
            {"iwae_bits_per_base", mean_sd(g.iwae_bits)},
            {"novelty", mean_sd(g.novelty)}};
  if (with_values) {
    Json v;
    v["codes"] = json_array(g.codes);
    v["property"] = json_array(g.property);
    v["predicted"] = json_array(g.predicted);
    v["bits_per_base"] = json_array(g.bits);
    v["iwae_bits_per_base"] = json_array(g.iwae_bits);
    v["novelty"] = json_array(g.novelty);
    j["values"] = v;
  }
  return j;
}

}  // namespace

DesignResult design_run(const LoadedRun& run, const DesignRequest& r) {
  const auto clock = std::chrono::steady_clock::now();
  model::Model& model = *run.model;
  ELBO_CHECK(model.latent_dim() > 0, kFn, ": the model of '", run.dir, "' has no per-example latent code to search");
  ELBO_CHECK(r.n >= 1, kFn, ": --n must be >= 1 (got ", r.n, ")");
  ELBO_CHECK(r.k >= 1, kFn, ": k must be >= 1 (got ", r.k, ")");
  ELBO_CHECK(r.max_fit >= 10, kFn, ": max_fit must be >= 10 (got ", r.max_fit, ")");
  ELBO_CHECK(r.start == "prior" || r.start == "encoded", kFn, ": --start must be prior or encoded (got '", r.start, "')");
  ELBO_CHECK(r.fit == "auto" || r.fit == "encoded" || r.fit == "decoded", kFn,
             ": --fit must be auto, encoded or decoded (got '", r.fit, "')");
  ELBO_CHECK(r.dims == "auto" || r.dims == "all" || r.dims == "active", kFn,
             ": --dims must be auto, all or active (got '", r.dims, "')");
  ELBO_CHECK(r.maximize || std::isfinite(r.target), kFn, ": --target must be a number or max");
  DesignResult out;
  out.request = r;
  out.sequences = run.data_format() == "fasta";
  out.crystals = run.family() == "crystal";
  const int64_t max_atoms = out.crystals ? run.config.get_int("data.max_atoms") : 0;
  if (out.crystals) crystal_property(r.property, Tensor(), max_atoms);  // refuses an unknown property first
  out.decoded_fit = r.fit == "decoded" || (r.fit == "auto" && out.crystals);
  ELBO_CHECK(!out.decoded_fit || out.crystals || out.sequences, kFn, ": --fit decoded measures decoded codes with an "
             "exact oracle, which exists for crystal runs and DNA runs (data.format = \"fasta\"), not for the run '",
             run.dir, "' (data.format = \"", run.data_format(), "\")");
  const bool active_only = r.dims == "active" || (r.dims == "auto" && out.crystals);
  out.log_property = out.crystals;
  ELBO_CHECK(!out.log_property || r.maximize || r.target > 0, kFn, ": --target of the crystal property '", r.property,
             "' must be positive (got ", r.target, ")");

  data::Splits splits = data::load_data(run.config);
  const data::Dataset& train = splits.train;
  ELBO_CHECK(train.size() >= 10, kFn, ": the training split of '", run.dir, "' has ", train.size(),
             " examples; the head needs at least 10");
  // The property of the training examples: an exact oracle on DNA windows, else a regression target.
  std::function<Tensor(const Tensor&)> property_of;  // of training rows (int64 indices)
  if (out.crystals) {  // exact: measured on the structure
    out.exact = true;
    property_of = [&](const Tensor& rows) { return crystal_property(r.property, train.x.index_select(0, rows), max_atoms); };
    out.notes.push_back("crystals: designs are decoded to their most probable structure; their novelty against the training set "
                        "needs pymatgen's StructureMatcher: bench/crystal_metrics.py RUN --designs DIR/designs");
  } else if (out.sequences) {
    out.exact = true;
    property_of = [&](const Tensor& rows) {
      return diag::sequence_property(r.property, train.x.index_select(0, rows),
                                     train.mask.defined() ? train.mask.index_select(0, rows) : Tensor());
    };
  } else {
    ELBO_CHECK(train.target.defined(), kFn, ": the run '", run.dir, "' has no property to design for: its data are not DNA "
               "windows (data.format = \"", run.data_format(), "\") and have no regression targets "
               "(data.target_columns); properties exist for data.format = \"fasta\" (",
               "gc, motif:<ACGT...>) and for the target columns of a CSV");
    const std::vector<std::string> names = target_names(run.config, train.target.size(1));
    int64_t column = -1;
    std::string valid;
    for (size_t j = 0; j < names.size(); ++j) {
      if (names[j] == r.property || "target" + std::to_string(j + 1) == r.property) column = static_cast<int64_t>(j);
      valid += (j ? ", " : "") + names[j];
    }
    ELBO_CHECK(column >= 0, kFn, ": '", r.property, "' is not a target column of the run '", run.dir, "'; valid: ", valid);
    const Tensor targets = original_units(train.target, splits.target_standardization).select(1, column);
    property_of = [targets](const Tensor& rows) { return targets.index_select(0, rows); };
    out.notes.push_back("no exact oracle for the decoded designs of a '" + run.data_format() +
                        "' run: only the head's prediction is reported for them");
  }
  out.prior_sd = run.config.get_double("model.prior_scale");
  std::ostringstream prior;
  prior << "p(z) in the objective is N(0, " << out.prior_sd << "^2 I) from model.prior_scale: the Model interface "
        << "exposes no log p(z) (a hierarchical model's structured prior is not used)";
  out.notes.push_back(prior.str());

  // The head on encoded training examples (a seeded subset), and with fit = decoded on as many prior draws, every
  // code decoded and measured.
  const auto decoded_property = [&](const Tensor& x) {
    return out.crystals ? crystal_property(r.property, x, max_atoms) : diag::sequence_property(r.property, x);
  };
  seed_stream(r.seed, RngStream::evaluation, kFitSubset);
  const int64_t fit_n = std::min(train.size(), r.max_fit);
  const Tensor rows = torch::randperm(train.size(), torch::kLong).slice(0, 0, fit_n);
  const Tensor z_encoded = encode_means(model, train.subset(rows));  // also what the active units are read from
  Tensor z_fit = z_encoded, c;
  if (!out.decoded_fit) {
    c = property_of(rows);
  } else {
    seed_stream(r.seed, RngStream::evaluation, kFitPrior);
    Tensor z_prior;
    {
      torch::NoGradGuard no_grad;
      z_prior = model.sample_prior(fit_n).to(torch::kCPU, torch::kFloat);
    }
    z_fit = torch::cat({z_encoded, z_prior});
    seed_stream(r.seed, RngStream::evaluation, kFitDecode);
    c = decoded_property(decode_codes(model, z_fit, out.sequences));
  }
  // Crystals' properties are positive and span decades (a prior draw's cell can be 100 times another's volume per
  // atom): the head fits log c, where a few huge cells do not swamp the least squares, and the search aims at log t.
  const Tensor finite = torch::isfinite(c) & (out.log_property ? c > 0 : torch::ones_like(c, torch::kBool));
  const Tensor fitted_c = c.masked_select(finite);
  z_fit = z_fit.index_select(0, finite.nonzero().squeeze(1));
  const diag::LatentActivity activity = diag::latent_activity(z_encoded);
  out.free = active_only ? (activity.activity > 0.01).to(torch::kFloat) : torch::ones({model.latent_dim()});
  if (active_only && out.free.sum().item<double>() == 0) {
    out.notes.push_back("no latent dimension is active (Var_x E_q[z_i | x] > 0.01): the search moves all of them");
    out.free = torch::ones({model.latent_dim()});
  }
  diag::PropertyHeadOptions head_options = r.head;
  head_options.seed = r.seed;
  if (active_only) head_options.inputs = out.free;  // the head reads the active units only
  out.head = diag::fit_property_head(z_fit, out.log_property ? fitted_c.log() : fitted_c, head_options);
  if (out.decoded_fit)
    out.notes.push_back("the head is fitted on " + std::to_string(z_encoded.size(0)) + " encoded training examples " +
                        "and " + std::to_string(fit_n) + " prior draws, each decoded as the designs are and measured " +
                        "exactly");
  if (active_only)
    out.notes.push_back("the search moves the " + std::to_string(static_cast<int64_t>(out.free.sum().item<double>())) +
                        " active units of " + std::to_string(model.latent_dim()) + " (Var_x E_q[z_i | x] > 0.01), the "
                        "only ones the head reads; the others stay at their start");

  // The reference: n random training examples (their windows, encodings and property).
  seed_stream(r.seed, RngStream::evaluation, kReference);
  const Tensor ref_rows = torch::randperm(train.size(), torch::kLong).slice(0, 0, std::min(r.n, train.size()));
  const data::Dataset ref_set = train.subset(ref_rows);
  out.reference.x = ref_set.x;
  out.reference.codes = encode_means(model, ref_set);
  out.reference.property = property_of(ref_rows);

  // The start codes and the design.
  Tensor start;
  if (r.start == "prior") {
    seed_stream(r.seed, RngStream::evaluation, kStart);
    torch::NoGradGuard no_grad;
    start = model.sample_prior(r.n).to(torch::kCPU, torch::kFloat);
    ELBO_CHECK(start.dim() == 2 && start.size(0) == r.n && start.size(1) == model.latent_dim(), kFn,
               ": sample_prior must give [", r.n, ", ", model.latent_dim(), "] (got ", start.sizes(), ")");
  } else {
    seed_stream(r.seed, RngStream::evaluation, kStart);
    const Tensor start_rows = torch::randint(train.size(), {r.n}, torch::kLong);
    start = encode_means(model, train.subset(start_rows));
  }
  diag::DesignOptions design_options;
  design_options.maximize = r.maximize;
  design_options.target = out.log_property && !r.maximize ? std::log(r.target) : r.target;
  design_options.steps = r.steps;
  design_options.lr = r.lr;
  design_options.prior_sd = out.prior_sd;
  design_options.free = out.free;
  out.design = diag::design_codes(out.head, start, design_options);
  if (out.log_property) out.design.predicted = out.design.predicted.exp();  // in the property's units

  // Decode start and final codes: one draw of the bases (DNA), else the mean.
  seed_stream(r.seed, RngStream::evaluation, kDecode);
  for (auto [group, codes] : {std::pair{&out.start, out.design.start}, std::pair{&out.designs, out.design.codes}}) {
    group->codes = codes;
    group->x = decode_codes(model, codes, out.sequences);
  }
  {
    torch::NoGradGuard no_grad;
    for (DesignGroup* g : {&out.reference, &out.start, &out.designs}) {
      g->predicted = out.head.predict(g->codes).to(torch::kDouble);
      if (out.log_property) g->predicted = g->predicted.exp();
    }
  }
  const double low = fitted_c.min().item<double>(), high = fitted_c.max().item<double>();
  const double predicted_mean = out.designs.predicted.mean().item<double>();
  if (predicted_mean < low || predicted_mean > high) {
    std::ostringstream note;
    note << "the designs' mean predicted " << r.property << " (" << predicted_mean << ") lies outside the range of the "
         << "fitted training examples [" << low << ", " << high << "]: the head extrapolates there";
    out.notes.push_back(note.str());
  }
  if (out.sequences) {
    bits_per_base(model, ref_set.x, ref_set.mask, r, out.reference);
    for (DesignGroup* g : {&out.start, &out.designs}) {
      g->property = decoded_property(g->x);
      bits_per_base(model, g->x, Tensor(), r, *g);
      g->novelty = novelty(g->x, train);
    }
  }
  if (out.crystals)
    for (DesignGroup* g : {&out.start, &out.designs}) g->property = decoded_property(g->x);

  // design.json: every number.
  Json& j = out.json;
  j["run"] = run.dir;
  j["property"] = r.property;
  j["goal"] = r.maximize ? Json("max") : Json(r.target);
  j["n"] = r.n;
  j["steps"] = r.steps;
  j["lr"] = r.lr;
  j["start"] = r.start;
  j["seed"] = r.seed;
  j["data_format"] = run.data_format();
  j["exact_oracle"] = out.exact;
  j["objective"] = r.maximize ? "f(z) / s + log N(z; 0, prior_sd^2 I)" : "log N(target; f(z), s^2) + log N(z; 0, prior_sd^2 I)";
  j["prior_sd"] = out.prior_sd;
  j["fit"] = out.decoded_fit ? "decoded" : "encoded";
  j["head_scale"] = out.log_property ? "log" : "linear";
  j["dims"] = active_only ? "active" : "all";
  j["moved_dims"] = json_array(out.free);
  j["activity"] = json_array(activity.activity);
  j["fitted_property_range"] = {low, high};
  j["notes"] = out.notes;
  j["head"] = {{"hidden", r.head.hidden},          {"steps", r.head.steps},     {"lr", r.head.lr},
               {"fitted", out.head.fitted},        {"held_out", out.head.held_out}, {"mean", out.head.mean},
               {"sd", out.head.sd},                {"noise_sd", out.head.noise_sd}, {"r2_held_out", out.head.r2},
               {"r2_fitted", out.head.train_r2}};
  j["evidence_k"] = r.k;
  j["summary"] = {{"reference", group_json(out.reference, false)},
                  {"start", group_json(out.start, false)},
                  {"designs", group_json(out.designs, false)}};
  j["objective_start"] = mean_sd(out.design.objective[0]);
  j["objective_end"] = mean_sd(out.design.objective[-1]);
  j["reference"] = group_json(out.reference, true);
  j["start_decoded"] = group_json(out.start, true);
  j["designs"] = group_json(out.designs, true);
  j["trajectory"] = {{"objective", json_array(out.design.objective)}, {"predicted", json_array(out.design.predicted)}};
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
  return out;
}

std::string trajectory_csv(const DesignResult& result) {
  const Tensor obj = result.design.objective.to(torch::kDouble).contiguous();
  const Tensor pred = result.design.predicted.to(torch::kDouble).contiguous();
  std::ostringstream csv;
  csv.precision(8);
  csv << "step,design,objective,predicted\n";
  const auto o = obj.accessor<double, 2>(), p = pred.accessor<double, 2>();
  for (int64_t s = 0; s < obj.size(0); ++s)
    for (int64_t i = 0; i < obj.size(1); ++i) csv << s << "," << i + 1 << "," << o[s][i] << "," << p[s][i] << "\n";
  return csv.str();
}

}  // namespace elbo::run
