#include "run.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/device.h"
#include "elbo/core/rng.h"
#include "elbo/dist/categorical.h"
#include "elbo/model/factory.h"
#include "elbo/report/html.h"
#include "elbo/report/image_grid.h"
#include "elbo/report/plot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {

LoadedRun load_run(const std::string& dir) {
  const std::string path = checkpoint_path(dir);
  struct stat st {};
  ELBO_CHECK(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "run directory '", dir, "' does not exist");
  ELBO_CHECK(::stat(path.c_str(), &st) == 0, "run directory '", dir, "' has no checkpoint.pt (train it with: elbo train --out ", dir, ")");
  LoadedRun run;
  run.dir = dir;
  run.info = train::read_checkpoint_info(path);
  run.config = Config::from_toml(run.info.config_toml, path + " (stored config)");
  set_threads(run.config.get_int("train.threads"));
  run.model = model::make_model(run.config, run.info.features, run.info.image);
  train::load_checkpoint(path, *run.model, nullptr);
  run.model->eval();
  return run;
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ELBO_CHECK(!ec, "cannot create output directory '", dir, "': ", ec.message());
  ELBO_CHECK(::access(dir.c_str(), W_OK) == 0, "output directory '", dir, "' is not writable: ", std::strerror(errno));
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

torch::Tensor original_units(const torch::Tensor& x, const data::Standardization& s) {
  if (!s.mean.defined()) return x.to(torch::kDouble);
  return x.to(torch::kDouble) * s.std.to(torch::kDouble) + s.mean.to(torch::kDouble);
}

void write_examples(const std::string& path, const torch::Tensor& x, const ImageShape& image, int64_t columns) {
  const bool csv = ends_with(path, ".csv"), png = ends_with(path, ".png");
  ELBO_CHECK(csv || png, "output file '", path, "' must end in .png or .csv");
  ELBO_CHECK(csv || image.is_image(), "'", path, "': this model's data are not images; write .csv instead");
  if (png) return report::write_image_grid(path, x, image, columns);
  torch::Tensor c = x.to(torch::kDouble).reshape({x.size(0), -1}).contiguous();
  std::ostringstream out;
  out << std::setprecision(8);
  for (int64_t j = 0; j < c.size(1); ++j) out << (j ? "," : "") << "x" << j + 1;
  out << "\n";
  auto a = c.accessor<double, 2>();
  for (int64_t i = 0; i < c.size(0); ++i) {
    for (int64_t j = 0; j < c.size(1); ++j) out << (j ? "," : "") << a[i][j];
    out << "\n";
  }
  write_file_atomic(path, out.str());
}

double MetricsLine::get(const std::string& key) const {
  for (const auto& [k, v] : values)
    if (k == key) return v;
  return std::nan("");
}

std::vector<MetricsLine> read_metrics(const std::string& path) {
  std::vector<MetricsLine> lines;
  std::ifstream in(path);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    MetricsLine m;
    bool cut = line.empty() || line.back() != '}';  // a kill mid-write leaves a line without its end
    size_t pos = 0;
    while (!cut && (pos = line.find('"', pos)) != std::string::npos) {
      const size_t end = line.find('"', pos + 1);
      if (end == std::string::npos) break;
      const std::string key = line.substr(pos + 1, end - pos - 1);
      size_t colon = line.find(':', end);
      if (colon == std::string::npos) break;
      size_t v = line.find_first_not_of(' ', colon + 1);
      if (v == std::string::npos) break;
      if (line[v] == '"') {
        const size_t vend = line.find('"', v + 1);
        if ((cut = vend == std::string::npos)) break;
        if (key == "type") m.type = line.substr(v + 1, vend - v - 1);
        pos = vend + 1;
      } else {
        char* stop = nullptr;
        const double value = std::strtod(line.c_str() + v, &stop);
        const bool parsed = stop != line.c_str() + v;  // "null" (a non-finite metric) parses as nothing
        m.values.emplace_back(key, parsed ? value : std::nan(""));
        pos = parsed ? static_cast<size_t>(stop - line.c_str()) : v + 1;
      }
    }
    if (cut) std::cerr << "elbo: warning: " << path << ":" << number << ": cut or garbled line skipped\n";
    else if (!m.type.empty()) lines.push_back(std::move(m));
  }
  return lines;
}

namespace {

/// What to show for p(x|z, y): the mean, or the most likely class for categorical data
/// (y: labels of a conditional model; unconditional models ignore them).
torch::Tensor decoded(model::Model& model, const torch::Tensor& z, const torch::Tensor& y = {}) {
  dist::DistributionPtr px = model.likelihood(z, y);
  if (auto* cat = dynamic_cast<dist::Categorical*>(px.get())) return cat->logits().argmax(-1).to(torch::kFloat);
  return px->mean();
}

}  // namespace

Pictures make_pictures(model::Model& model, const data::Dataset& test, const Config& config,
                       const torch::Tensor& kl_per_dim) {
  torch::NoGradGuard no_grad;
  seed_stream(static_cast<uint64_t>(config.get_int("train.seed")), RngStream::evaluation, 1u << 30);
  Pictures p;
  if (model.latent_dim() == 0) return p;  // no per-example code to sample, decode or traverse
  const int64_t samples = config.get_int("report.samples");
  if (const int64_t classes = model.classes(); classes > 0) {
    // A conditional model: one row per class, the same number of prior draws in each.
    p.sample_columns = std::max<int64_t>(1, samples / classes);
    torch::Tensor z = model.sample_prior(classes * p.sample_columns);
    torch::Tensor y = torch::arange(classes, z.options().dtype(torch::kLong)).repeat_interleave(p.sample_columns);
    p.samples = decoded(model, z, y).cpu();
  } else {
    p.samples = decoded(model, model.sample_prior(samples)).cpu();
  }
  const int64_t columns = 16;
  const int64_t n = std::min<int64_t>(32, test.size());
  if (n >= 1) {
    data::Batch batch = test.slice(0, n);
    torch::Tensor rec = decoded(model, model.posterior(batch)->mean(), batch.y).cpu();
    // Row pairs: inputs above their reconstructions.
    std::vector<torch::Tensor> rows;
    for (int64_t begin = 0; begin < n; begin += columns) {
      const int64_t end = std::min(n, begin + columns);
      rows.push_back(batch.x.slice(0, begin, end).cpu());
      rows.push_back(rec.slice(0, begin, end));
    }
    p.reconstructions = torch::cat(rows);
    p.reconstruction_columns = std::min(columns, n);
  }
  const int64_t steps = config.get_int("report.interpolation_steps");
  const int64_t pairs = std::min<int64_t>(8, test.size() / 2);
  if (pairs >= 1) {
    data::Batch ends = test.slice(0, 2 * pairs);
    torch::Tensor codes = model.posterior(ends)->mean();
    torch::Tensor a = codes.slice(0, 0, pairs), b = codes.slice(0, pairs, 2 * pairs);
    torch::Tensor t = torch::linspace(0, 1, steps, codes.options()).view({1, steps, 1});
    torch::Tensor path = a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t;  // [pairs, steps, D]
    // A conditional model decodes each row with the label of its first image.
    torch::Tensor labels =
        ends.y.defined() ? ends.y.slice(0, 0, pairs).unsqueeze(1).expand({pairs, steps}).reshape({-1}) : torch::Tensor();
    torch::Tensor images = decoded(model, path.reshape({pairs * steps, -1}), labels).cpu().view({pairs, steps, -1});
    // Each row: first input, the path between the two codes, second input.
    torch::Tensor x = ends.x.cpu();
    p.interpolation = torch::cat({x.slice(0, 0, pairs).unsqueeze(1), images, x.slice(0, pairs, 2 * pairs).unsqueeze(1)}, 1)
                          .reshape({pairs * (steps + 2), -1});
    p.interpolation_columns = steps + 2;
  }
  if (test.size() >= 1) {
    // Latent traversal: the first test example's posterior mean with one dimension at a time swept
    // over -3..3 prior standard deviations; at most 10 dimensions, largest KL first.
    data::Batch first = test.slice(0, 1);
    torch::Tensor code = model.posterior(first)->mean();  // [1, D]
    const int64_t d = code.size(1), values = 9, rows = std::min<int64_t>(10, d);
    const torch::Tensor order = kl_per_dim.defined() && kl_per_dim.numel() == d
                                    ? torch::argsort(kl_per_dim.cpu(), 0, /*descending=*/true)
                                    : torch::arange(d, torch::kLong);
    const double reach = 3 * config.get_double("model.prior_scale");
    torch::Tensor z = code.repeat({rows * values, 1}).view({rows, values, d});
    for (int64_t r = 0; r < rows; ++r) {
      p.traversal_dims.push_back(order[r].item<int64_t>());
      z[r].select(1, p.traversal_dims.back()).copy_(torch::linspace(-reach, reach, values, code.options()));
    }
    torch::Tensor labels = first.y.defined() ? first.y.expand({rows * values}) : torch::Tensor();
    p.traversal = decoded(model, z.view({rows * values, d}), labels).cpu();
    p.traversal_columns = values;
  }
  if (const int64_t classes = model.classes(); classes > 0 && test.size() >= 1) {
    const int64_t rows = std::min<int64_t>(8, test.size());
    data::Batch batch = test.slice(0, rows);
    const torch::Tensor code = model.posterior(batch)->mean();  // [rows, D]
    const torch::Tensor z = code.repeat_interleave(classes, 0);
    const torch::Tensor y = torch::arange(classes, code.options().dtype(torch::kLong)).repeat({rows});
    const torch::Tensor images = decoded(model, z, y).cpu().view({rows, classes, -1});
    p.analogies = torch::cat({batch.x.cpu().unsqueeze(1), images}, 1).reshape({rows * (classes + 1), -1});
    p.analogy_columns = classes + 1;
  }
  return p;
}

report::Section classification_section(const diag::Classification& c) {
  std::ostringstream error;
  error << std::fixed << std::setprecision(3) << 100 * c.error << "% ± " << 100 * c.error_se << "%";
  report::Section s;
  s.heading = "Confusion matrix";
  s.text = "The classifier q(y|x) on " + std::to_string(c.examples) +
           " test examples. Rows: true class; columns: the most probable class under q(y|x).";
  s.table.emplace_back("test error of q(y|x)", error.str());
  for (int64_t i = 0; i < c.confusion.size(0); ++i) {
    std::string counts;
    for (int64_t j = 0; j < c.confusion.size(1); ++j) counts += (j ? " " : "") + std::to_string(c.confusion[i][j].item<int64_t>());
    s.table.emplace_back("class " + std::to_string(i), counts);
  }
  return s;
}

std::string classification_table(const diag::Classification& c) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  out << "  " << std::left << std::setw(34) << "test error of q(y|x)" << 100 * c.error << "% ± " << 100 * c.error_se
      << "% (" << c.examples << " examples)\n  confusion matrix (rows: true class, columns: predicted)\n";
  for (int64_t i = 0; i < c.confusion.size(0); ++i) {
    out << "    " << std::right << std::setw(3) << i << " |";
    for (int64_t j = 0; j < c.confusion.size(1); ++j) out << " " << std::setw(5) << c.confusion[i][j].item<int64_t>();
    out << "\n";
  }
  return out.str();
}

std::string summary_table(const diag::Summary& s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  auto row = [&](const std::string& k, const std::string& v) { out << "  " << std::left << std::setw(34) << k << v << "\n"; };
  auto num = [](double v, int precision = 3) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(precision) << v;
    return o.str();
  };
  row("test examples", std::to_string(s.examples));
  row("ELBO (nats)", num(s.elbo));
  row("  reconstruction E_q log p(x|z)", num(s.reconstruction));
  row("  KL(q(z|x) || p(z))", num(s.kl));
  row("log p(x), IWAE K=" + std::to_string(s.k), num(s.log_px) + " ± " + num(s.log_px_se));
  row("ELBO gap  log p(x) - ELBO", num(s.gap) + " ± " + num(s.gap_se));
  row("Pinsker bound on TV(q, p(z|x))", num(s.pinsker_tv, 4));
  if (s.activity.activity.defined())
    row("active units (Var E_q[z] > 0.01)",
        std::to_string(s.activity.active_units) + " / " + std::to_string(s.activity.activity.numel()));
  if (s.groups.size() > 1)
    for (const auto& g : s.groups)
      row("  KL " + g.name + " (" + std::to_string(g.dims) + " dims)",
          num(g.kl) + (g.active_units >= 0 ? ", active units " + std::to_string(g.active_units) : std::string()));
  if (s.activity.kl_per_dim.defined()) {
    std::ostringstream kl;
    kl << std::fixed << std::setprecision(2);
    torch::Tensor d = s.activity.kl_per_dim;
    for (int64_t i = 0; i < d.numel(); ++i) kl << (i ? " " : "") << d[i].item<double>();
    row("KL per latent dimension", kl.str());
  }
  return out.str();
}

void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra) {
  std::vector<report::Section> sections;
  report::Section head;
  head.heading = "Test set";
  auto num = [](double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << v;
    return o.str();
  };
  head.table = {{"data", test.name},
                {"model", config.get_string("model.type") + " (" + config.get_string("model.encoder") + " encoder, " +
                              config.get_string("model.decoder") + " decoder, " + config.get_string("model.likelihood") +
                              " likelihood, " + std::to_string(model.latent_dim()) + " latent dims" +
                              (model.has_classifier() ? ", classifier q(y|x) over " + std::to_string(model.classes()) + " classes"
                               : model.classes() > 0  ? ", conditional on " + std::to_string(model.classes()) + " classes"
                                                      : std::string()) + ")"},
                {"test examples", std::to_string(summary.examples)},
                {"ELBO (nats)", num(summary.elbo)},
                {"reconstruction E_q log p(x|z)", num(summary.reconstruction)},
                {"KL(q(z|x) || p(z))", num(summary.kl)},
                {"log p(x), IWAE K=" + std::to_string(summary.k), num(summary.log_px) + " ± " + num(summary.log_px_se)},
                {"ELBO gap", num(summary.gap) + " ± " + num(summary.gap_se)},
                {"Pinsker bound on TV(q(z|x), p(z|x))", num(summary.pinsker_tv)},
                {"active units", std::to_string(summary.activity.active_units) + " / " +
                                     std::to_string(model.latent_dim())}};
  if (summary.groups.size() > 1)
    for (const auto& g : summary.groups)
      head.table.push_back({"KL " + g.name + " (" + std::to_string(g.dims) + " dims), active units",
                            num(g.kl) + ", " + (g.active_units >= 0 ? std::to_string(g.active_units) : "?") + " / " +
                                std::to_string(g.dims)});
  sections.push_back(head);

  Pictures p = make_pictures(model, test, config, summary.activity.kl_per_dim);
  const ImageShape& image = test.image;
  if (!p.samples.defined()) {  // a model without a per-example code: nothing to picture
  } else if (image.is_image()) {
    write_examples(dir + "/samples.png", p.samples, image, p.sample_columns);
    sections.push_back({"Samples from the prior",
                        model.classes() > 0 ? "Row c: z ~ p(z), shown as the mean of p(x|z, y = c) (classes 0.." +
                                                  std::to_string(model.classes() - 1) + " top to bottom)."
                                            : "z ~ p(z), shown as the mean of p(x|z).",
                        {}, {{"samples.png", dir + "/samples.png"}}, {}});
    if (p.reconstructions.defined()) {
      write_examples(dir + "/reconstructions.png", p.reconstructions, image, p.reconstruction_columns);
      sections.push_back({"Reconstructions", "Test inputs (odd rows) above the mean of p(x|z = E_q[z|x]) (even rows).",
                          {}, {{"reconstructions.png", dir + "/reconstructions.png"}}, {}});
    }
    if (p.interpolation.defined()) {
      write_examples(dir + "/interpolation.png", p.interpolation, image, p.interpolation_columns);
      sections.push_back({"Latent interpolation",
                          "Each row: a test image, the decoded straight line between its posterior mean and another's, "
                          "the other image.",
                          {}, {{"interpolation.png", dir + "/interpolation.png"}}, {}});
    }
    if (p.traversal.defined()) {
      write_examples(dir + "/traversal.png", p.traversal, image, p.traversal_columns);
      std::string dims;
      for (size_t i = 0; i < p.traversal_dims.size(); ++i) dims += (i ? ", " : "") + std::to_string(p.traversal_dims[i]);
      sections.push_back({"Latent traversal",
                          "The first test image's posterior mean with one latent dimension at a time set to " +
                              std::to_string(p.traversal_columns) +
                              " values from -3 to 3 prior standard deviations, decoded. Rows: dimensions " + dims +
                              " (0-based as in the KL chart, by decreasing KL where the model reports it).",
                          {}, {{"traversal.png", dir + "/traversal.png"}}, {}});
    }
    if (p.analogies.defined()) {
      write_examples(dir + "/analogies.png", p.analogies, image, p.analogy_columns);
      sections.push_back({"Analogies",
                          "Each row: a test image, then its code E_q[z|x] (its style) decoded with each class 0.." +
                              std::to_string(model.classes() - 1) +
                              " in turn: the class changed, the style kept (Kingma et al. 2014, fig. 1).",
                          {}, {{"analogies.png", dir + "/analogies.png"}}, {}});
    }
  } else {
    write_examples(dir + "/samples.csv", p.samples, image, 1);
    sections.push_back({"Samples from the prior", "Written to samples.csv (" + std::to_string(p.samples.size(0)) +
                                                      " rows, decoded means).", {}, {}, {}});
  }

  // Training curves from metrics.jsonl.
  report::LinePlot loss{"Negative bound (loss)", "step", "nats"}, rec{"Reconstruction E_q log p(x|z)", "step", "nats"},
      kl{"KL(q || p)", "step", "nats"};
  report::Series loss_t{"train"}, loss_v{"validation"}, rec_t{"train"}, rec_v{"validation"}, kl_t{"train"}, kl_v{"validation"};
  for (const auto& m : read_metrics(dir + "/metrics.jsonl")) {
    const double step = m.get("step");
    if (m.type == "step") {
      loss_t.x.push_back(step), loss_t.y.push_back(m.get("loss"));
      rec_t.x.push_back(step), rec_t.y.push_back(m.get("reconstruction"));
      kl_t.x.push_back(step), kl_t.y.push_back(m.get("kl"));
    } else if (m.type == "epoch") {
      loss_v.x.push_back(step), loss_v.y.push_back(-m.get("valid_elbo"));
      rec_v.x.push_back(step), rec_v.y.push_back(m.get("valid_reconstruction"));
      kl_v.x.push_back(step), kl_v.y.push_back(m.get("valid_kl"));
    }
  }
  loss.series = {loss_t, loss_v};
  rec.series = {rec_t, rec_v};
  kl.series = {kl_t, kl_v};
  const std::string curves = report::render_svg_row({loss, rec, kl});
  write_file_atomic(dir + "/curves.svg", curves);
  sections.push_back({"Training curves", "Training averages every train.log_every steps; validation after each epoch.",
                      {}, {}, {curves}});

  if (summary.activity.kl_per_dim.defined()) {
    torch::Tensor d = summary.activity.kl_per_dim.contiguous();
    std::vector<double> values(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    sections.push_back({"Posterior collapse",
                        std::to_string(summary.activity.active_units) + " of " + std::to_string(d.numel()) +
                            " latent units are active (Var_x E_q[z_i] > 0.01, Burda et al. 2016).",
                        {}, {}, {report::render_bar_svg("KL per latent dimension", values, "dimension", "nats")}});
  }
  sections.insert(sections.end(), extra.begin(), extra.end());
  report::write_html_report(dir + "/report.html", "elbo run: " + dir, sections);
}

void evaluate_extras(model::Model& model, const data::Dataset& test, const Config& config, const std::string& dir,
                     int64_t k, int64_t batch_size, std::string& json, std::string& table,
                     std::vector<report::Section>& sections) {
  if (model.has_classifier() && test.y.defined()) {
    const diag::Classification c = diag::evaluate_classifier(model, test, batch_size);
    json.insert(json.size() - 1, ", \"classification\": " + diag::to_json(c));
    table += classification_table(c);
    sections.push_back(classification_section(c));
  }
  if (test.hidden.defined() && model.latent_dim() > 0 && test.hidden.sum().item<double>() > 0) {
    diag::ImputationOptions o;
    o.particles = k;
    o.draws = config.get_int("eval.impute_draws");
    o.seed = static_cast<uint64_t>(config.get_int("train.seed"));
    std::fprintf(stderr, "elbo: imputing the hidden entries of %lld test examples (K=%lld, %lld draws)\n",
                 static_cast<long long>(test.size()), static_cast<long long>(o.particles),
                 static_cast<long long>(o.draws));
    const diag::ImputationScores scores = diag::score_imputation(model, test, o);
    std::string picture;
    if (test.image.is_image()) {
      const ImputationPicture p = imputation_picture(model, test, 8, o.particles, o.seed);
      picture = dir + "/imputations.png";
      write_examples(picture, p.images, test.image, p.columns);
    }
    json.insert(json.size() - 1, ", \"imputation\": " + diag::to_json(scores));
    table += imputation_table(scores);
    sections.push_back(imputation_section(scores, picture));
  }
  if (test.modalities.size() >= 2) {
    const uint64_t seed = static_cast<uint64_t>(config.get_int("train.seed"));
    std::fprintf(stderr, "elbo: scoring each modality given the others on %lld test rows (K=%lld)\n",
                 static_cast<long long>(test.size()), static_cast<long long>(k));
    const std::vector<diag::CrossModalScore> scores = diag::cross_modal_log_likelihood(model, test, k, seed);
    json.insert(json.size() - 1, ", \"modalities\": " + diag::to_json(scores));
    std::ostringstream out;
    out << std::fixed << std::setprecision(3);
    for (const auto& c : scores)
      out << "  " << std::left << std::setw(34) << ("log p(" + c.modality + " | others)") << c.conditional
          << " nats/row vs log p(" << c.modality << ") " << c.marginal << " (" << c.rows << " rows)\n";
    table += out.str();
    sections.push_back(multimodal_section(model, test, scores, dir, k));
  }
}

void warn_if_collapsed(const diag::Summary& summary) {
  const int64_t dims = summary.activity.activity.defined() ? summary.activity.activity.numel() : 0;
  if (dims > 0 && 2 * summary.activity.active_units < dims)
    std::cerr << "elbo: warning: posterior collapse: only " << summary.activity.active_units << " of " << dims
              << " latent units are active (Var_x E_q[z_i] > 0.01); the code carries little information. "
                 "Remedies: objective.warmup_steps (KL warm-up), objective.free_bits, model.decoder_init_scale "
                 "(small decoder init), a lower objective.beta or a weaker decoder.\n";
}

}  // namespace elbo::cli
