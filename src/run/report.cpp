#include "elbo/run/report.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/json.h"
#include "elbo/core/process_memory.h"
#include "elbo/data/fasta.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/pictures.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/summaries.h"

#include <unistd.h>

namespace elbo::run {

void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra) {
  std::vector<report::Section> sections;
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

  Pictures p = make_pictures(model, test, config, summary.activity.kl_per_dim);
  const ImageShape& image = test.image;
  if (!p.samples.defined()) {  // a model without a per-example code: nothing to picture
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
  for (const Json& m : read_json_lines(dir + "/metrics.jsonl")) {
    const std::string type = m.is_object() ? m.value("type", "") : "";
    const double step = json_number(m, "step");
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
  const std::string curves = report::render_svg_row({loss, rec, kl});
  write_file_atomic(dir + "/curves.svg", curves);
  sections.push_back({"Training curves", "Training averages every train.log_every steps; validation after each epoch.",
                      {}, {}, {curves}});

  // memory.json (elbo train): the estimate made before allocating, beside the measured peak.
  if (::access((dir + "/memory.json").c_str(), R_OK) == 0) {
    const Json m = Json::parse(read_file(dir + "/memory.json"), nullptr, /*allow_exceptions=*/false);
    if (m.is_object() && m.contains("parts") && m["parts"].is_object()) {
      report::Section memory{"Memory", "Estimated before the model was allocated (elbo config --estimate prints it) and the "
                                       "peak resident set size measured after training.", {}, {}, {}};
      for (const auto& [name, bytes] : m["parts"].items())
        memory.table.push_back({"estimate: " + name, format_bytes(json_number(m["parts"], name))});
      memory.table.push_back({"estimate: total", format_bytes(json_number(m, "total_bytes"))});
      memory.table.push_back({"measured peak RSS (training)", format_bytes(json_number(m, "peak_rss_bytes"))});
      memory.table.push_back({"available when it started", format_bytes(json_number(m, "available_bytes"))});
      sections.push_back(memory);
    }
  }

  if (summary.activity.kl_per_dim.defined()) {
    const torch::Tensor& d = summary.activity.kl_per_dim;
    const std::vector<double> values = to_doubles(d);
    sections.push_back({"Posterior collapse",
                        std::to_string(summary.activity.active_units) + " of " + std::to_string(d.numel()) +
                            " latent units are active (Var_x E_q[z_i] > 0.01, Burda et al. 2016).",
                        {}, {}, {report::render_bar_svg("KL per latent dimension", values, "dimension", "nats")}});
  }
  sections.insert(sections.end(), extra.begin(), extra.end());
  report::write_html_report(dir + "/report.html", "elbo run: " + dir, sections);
}

}  // namespace elbo::run
