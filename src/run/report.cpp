#include "elbo/run/report.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/json.h"
#include "elbo/core/process_memory.h"
#include "elbo/data/fasta.h"
#include "elbo/data/load.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/crystal_report.h"
#include "elbo/run/forecast.h"
#include "elbo/run/evaluation.h"
#include "elbo/run/pictures.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/summaries.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace elbo::run {
namespace {

/// The training curves of RUN/metrics.jsonl (also written to curves.svg); `last_step` receives
/// the step of its last record (-1: none yet).
report::Section curves_section(const std::string& dir, int64_t& last_step) {
  report::LinePlot loss{"Negative bound (loss)", "step", "nats"}, rec{"Reconstruction E_q log p(x|z)", "step", "nats"},
      kl{"KL(q || p)", "step", "nats"};
  report::Series loss_t{"train"}, loss_v{"validation"}, rec_t{"train"}, rec_v{"validation"}, kl_t{"train"}, kl_v{"validation"};
  last_step = -1;
  for (const Json& m : read_json_lines(dir + "/metrics.jsonl")) {
    const std::string type = m.is_object() ? m.value("type", "") : "";
    const double step = json_number(m, "step");
    if (std::isfinite(step)) last_step = std::max(last_step, static_cast<int64_t>(step));
    if (type == "step") {
      loss_t.x.push_back(step), loss_t.y.push_back(json_number(m, "loss"));
      rec_t.x.push_back(step), rec_t.y.push_back(json_number(m, "reconstruction"));
      kl_t.x.push_back(step), kl_t.y.push_back(json_number(m, "kl"));
    } else if (type == "epoch") {
      loss_v.x.push_back(step), loss_v.y.push_back(-json_number(m, "valid_elbo"));
      rec_v.x.push_back(step), rec_v.y.push_back(json_number(m, "valid_reconstruction"));
      kl_v.x.push_back(step), kl_v.y.push_back(json_number(m, "valid_kl"));
    }
  }
  loss.series = {loss_t, loss_v};
  rec.series = {rec_t, rec_v};
  kl.series = {kl_t, kl_v};
  report::Chart curves = report::line_chart_row({loss, rec, kl});
  curves.file_name = "curves.csv";
  write_file_atomic(dir + "/curves.svg", curves.svg);
  return {"Training curves", "Training averages every train.log_every steps; validation after each epoch.", {}, {}, {curves}};
}

/// The report's first section: which step it shows (the checkpoint's, and metrics.jsonl's last) and when it was written.
report::Section run_section(const Config* config, const train::CheckpointInfo* shown, int64_t metrics_step) {
  report::Section s{"Run", "", {}, {}, {}};
  const int64_t epochs = config ? config->get_int("train.epochs") : 0;
  const std::string of = epochs > 0 ? " of " + std::to_string(epochs) : "";
  if (!shown) {
    s.table.push_back({"model shown", "none yet: no checkpoint (training curves only)"});
  } else {
    std::string where = "checkpoint at step " + std::to_string(shown->step) + ", ";
    if (shown->batch_in_epoch > 0)
      where += "batch " + std::to_string(shown->batch_in_epoch) + " of epoch " + std::to_string(shown->epoch + 1) + of +
               " (training not finished)";
    else if (epochs > 0 && shown->epoch >= epochs)
      where += "epoch " + std::to_string(shown->epoch) + of + ": training finished";
    else
      where += "after epoch " + std::to_string(shown->epoch) + of + " (training not finished)";
    s.table.push_back({"model shown", where});
  }
  s.table.push_back({"training curves", metrics_step >= 0 ? "metrics.jsonl up to step " + std::to_string(metrics_step)
                                                          : "metrics.jsonl has no records yet"});
  char written[64] = "";
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  if (gmtime_r(&now, &utc)) std::strftime(written, sizeof written, "%Y-%m-%d %H:%M:%S UTC", &utc);
  s.table.push_back({"report written", written});
  return s;
}

std::string report_title(const std::string& dir, const train::CheckpointInfo* shown) {
  return "elbo run: " + dir + (shown ? " at step " + std::to_string(shown->step) : std::string(", no checkpoint yet"));
}

/// Alt text of a picture grid: how many pictures in how many rows, and what they are.
std::string grid_alt(int64_t count, int64_t columns, const std::string& what) {
  columns = std::max<int64_t>(1, columns);
  return std::to_string(count) + " pictures in " + std::to_string((count + columns - 1) / columns) + " rows of " +
         std::to_string(columns) + ": " + what;
}

/// The memory estimate beside the measured peak (RUN/memory.json, written by elbo train), if there.
void add_memory_section(const std::string& dir, std::vector<report::Section>& sections) {
  if (::access((dir + "/memory.json").c_str(), R_OK) != 0) return;
  const Json m = Json::parse(read_file(dir + "/memory.json"), nullptr, /*allow_exceptions=*/false);
  if (!m.is_object() || !m.contains("parts") || !m["parts"].is_object()) return;
  report::Section memory{"Memory", "Estimated before the model was allocated (elbo config --estimate prints it) and the "
                                   "peak resident set size measured after training.", {}, {}, {}};
  for (const auto& [name, bytes] : m["parts"].items())
    memory.table.push_back({"estimate: " + name, format_bytes(json_number(m["parts"], name))});
  memory.table.push_back({"estimate: total", format_bytes(json_number(m, "total_bytes"))});
  memory.table.push_back({"measured peak RSS (training)", format_bytes(json_number(m, "peak_rss_bytes"))});
  memory.table.push_back({"available when it started", format_bytes(json_number(m, "available_bytes"))});
  sections.push_back(memory);
}

/// write_report; returns the last step of metrics.jsonl that the curves show.
int64_t write_run_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                         const diag::Summary& summary, const std::vector<report::Section>& extra,
                         const train::CheckpointInfo* shown) {
  std::vector<report::Section> sections;
  int64_t metrics_step = -1;
  report::Section curves = curves_section(dir, metrics_step);
  sections.push_back(run_section(&config, shown, metrics_step));
  report::Section head;
  head.heading = "Test set";
  head.table = {{"data", test.name},
                {"model", model.describe()},
                {"test examples", std::to_string(summary.examples)},
                {"ELBO (nats)", report::fixed(summary.elbo)},
                {"reconstruction E_q log p(x|z)", report::fixed(summary.reconstruction)},
                {"KL(q(z|x) || p(z))", report::fixed(summary.kl)},
                {"log p(x), IWAE K=" + std::to_string(summary.k), report::fixed(summary.log_px) + " ± " + report::fixed(summary.log_px_se)},
                {"ELBO gap", report::fixed(summary.gap) + " ± " + report::fixed(summary.gap_se)},
                {"Pinsker bound on TV(q(z|x), p(z|x))", report::fixed(summary.pinsker_tv)},
                {"active units", std::to_string(summary.activity.active_units) + " / " +
                                     std::to_string(model.latent_dim())}};
  if (summary.groups.size() > 1)
    for (const auto& g : summary.groups)
      head.table.push_back({"KL " + g.name + " (" + std::to_string(g.dims) + " dims), active units",
                            report::fixed(g.kl) + ", " + (g.active_units >= 0 ? std::to_string(g.active_units) : "?") + " / " +
                                std::to_string(g.dims)});
  sections.push_back(head);
  if (config.get_string("model.type") == "brnn") sections.push_back(forecast_section(model, config));

  Pictures p = make_pictures(model, test, config, summary.activity.kl_per_dim);
  const ImageShape& image = test.image;
  if (!p.samples.defined()) {  // a model without a per-example code: nothing to picture
  } else if (config.get_string("model.type") == "crystal") {  // structures: a table and a picture of cells
    sections.push_back(crystal_section(model, config, dir));
  } else if (!test.alphabet.empty()) {  // sequences: draws from p(x|z), z ~ p(z), as FASTA
    torch::NoGradGuard no_grad;
    const torch::Tensor x = model.likelihood(model.sample_prior(p.samples.size(0)))->sample();
    write_file_atomic(dir + "/samples.fasta", data::format_fasta(data::fasta_records(x, "sample")));
    sections.push_back({"Samples from the prior", "Written to samples.fasta (" + std::to_string(x.size(0)) +
                                                      " sequences drawn from p(x|z), z ~ p(z)).", {}, {}, {}});
  } else if (image.is_image()) {
    write_examples(dir + "/samples.png", p.samples, image, p.sample_columns);
    sections.push_back({"Samples from the prior",
                        model.classes() > 0 ? "Row c: z ~ p(z), shown as the mean of p(x|z, y = c) (classes 0.." +
                                                  std::to_string(model.classes() - 1) + " top to bottom)."
                                            : "z ~ p(z), shown as the mean of p(x|z).",
                        {},
                        {{"samples.png", dir + "/samples.png",
                          grid_alt(p.samples.size(0), p.sample_columns, "images decoded from codes drawn from the prior")}},
                        {}});
    if (p.reconstructions.defined()) {
      write_examples(dir + "/reconstructions.png", p.reconstructions, image, p.reconstruction_columns);
      sections.push_back({"Reconstructions", "Test inputs (odd rows) above the mean of p(x|z = E_q[z|x]) (even rows).",
                          {},
                          {{"reconstructions.png", dir + "/reconstructions.png",
                            grid_alt(p.reconstructions.size(0), p.reconstruction_columns,
                                     "rows of test images alternating with rows of their reconstructions")}},
                          {}});
    }
    if (p.interpolation.defined()) {
      write_examples(dir + "/interpolation.png", p.interpolation, image, p.interpolation_columns);
      sections.push_back({"Latent interpolation",
                          "Each row: a test image, the decoded straight line between its posterior mean and another's, "
                          "the other image.",
                          {},
                          {{"interpolation.png", dir + "/interpolation.png",
                            grid_alt(p.interpolation.size(0), p.interpolation_columns,
                                     "each row turns one test image into another in even steps through the code")}},
                          {}});
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
                          {},
                          {{"traversal.png", dir + "/traversal.png",
                            grid_alt(p.traversal.size(0), p.traversal_columns,
                                     "each row the same test image with one latent dimension swept from -3 to 3")}},
                          {}});
    }
    if (p.analogies.defined()) {
      write_examples(dir + "/analogies.png", p.analogies, image, p.analogy_columns);
      sections.push_back({"Analogies",
                          "Each row: a test image, then its code E_q[z|x] (its style) decoded with each class 0.." +
                              std::to_string(model.classes() - 1) +
                              " in turn: the class changed, the style kept (Kingma et al. 2014, fig. 1).",
                          {},
                          {{"analogies.png", dir + "/analogies.png",
                            grid_alt(p.analogies.size(0), p.analogy_columns,
                                     "each row a test image, then its style drawn as each class in turn")}},
                          {}});
    }
  } else {
    write_examples(dir + "/samples.csv", p.samples, image, 1);
    sections.push_back({"Samples from the prior", "Written to samples.csv (" + std::to_string(p.samples.size(0)) +
                                                      " rows, decoded means).", {}, {}, {}});
  }

  sections.push_back(curves);
  add_memory_section(dir, sections);

  if (summary.activity.kl_per_dim.defined()) {
    const torch::Tensor& d = summary.activity.kl_per_dim;
    const std::vector<double> values = to_doubles(d);
    sections.push_back({"Posterior collapse",
                        std::to_string(summary.activity.active_units) + " of " + std::to_string(d.numel()) +
                            " latent units are active (Var_x E_q[z_i] > 0.01, Burda et al. 2016).",
                        {}, {}, {report::bar_chart("KL per latent dimension", values, "dimension", "nats")}});
  }
  sections.insert(sections.end(), extra.begin(), extra.end());
  report::write_html_report(dir + "/report.html", report_title(dir, shown), sections);
  return metrics_step;
}

}  // namespace

void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra,
                  const train::CheckpointInfo* shown) {
  write_run_report(dir, model, test, config, summary, extra, shown);
}

ReportState rebuild_report(const std::string& dir, const ReportOptions& o) {
  struct stat st {};
  ELBO_CHECK(::stat(dir.c_str(), &st) == 0, "elbo report: run directory '", dir, "' does not exist");
  ELBO_CHECK(S_ISDIR(st.st_mode), "elbo report: '", dir, "' is not a directory (give the run directory elbo train --out wrote)");
  const bool metrics = ::access((dir + "/metrics.jsonl").c_str(), R_OK) == 0;
  const bool checkpoint = ::access(checkpoint_path(dir).c_str(), R_OK) == 0;
  ELBO_CHECK(metrics || checkpoint, "elbo report: '", dir,
             "' is not a run directory: it has no metrics.jsonl and no checkpoint.pt (elbo train --out ", dir,
             " writes them)");
  ReportState state;
  if (!checkpoint) {  // training has not reached its first checkpoint: the curves so far
    std::vector<report::Section> sections;
    report::Section curves = curves_section(dir, state.metrics_step);
    const bool has_config = ::access((dir + "/config.toml").c_str(), R_OK) == 0;
    const Config config = has_config ? Config::from_file(dir + "/config.toml") : Config();
    sections.push_back(run_section(has_config ? &config : nullptr, nullptr, state.metrics_step));
    sections.push_back(curves);
    report::write_html_report(dir + "/report.html", report_title(dir, nullptr), sections);
    return state;
  }
  const LoadedRun run = load_run(dir);  // a checkpoint replaced meanwhile is read whole: it is renamed into place
  data::Dataset test = data::load_test_data(run.config);
  const int64_t n = o.n >= 0 ? o.n : run.config.get_int("eval.n");
  if (n > 0 && n < test.size()) test = test.subset(torch::arange(n, torch::kLong));
  EvaluationOptions eo;
  eo.k = o.k;
  eo.progress = o.progress;
  const Evaluation e = evaluate(*run.model, test, run.config, dir, eo);
  state.metrics_step = write_run_report(dir, *run.model, test, run.config, e.summary, e.sections, &run.info);
  state.checkpoint_step = run.info.step;
  return state;
}

}  // namespace elbo::run
