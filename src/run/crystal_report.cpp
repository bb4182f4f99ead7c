#include "elbo/run/crystal_report.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/report/format.h"
#include "elbo/report/plot.h"
#include "elbo/run/cell_projections.h"
#include "elbo/run/crystals.h"

#include <algorithm>
#include <cmath>

namespace elbo::run {

report::Section crystal_section(model::Model& model, const Config& config, const std::string& dir) {
  ELBO_CHECK(config.get_string("model.type") == "crystal", "the report's crystal section: the run is not a crystal run "
             "(model.type = \"", config.get_string("model.type"), "\")");
  const int64_t n = std::min<int64_t>(config.get_int("report.samples"), static_cast<int64_t>(report::kChartTableRows));
  const std::vector<data::Structure> samples =
      sample_crystals(model, config, n, static_cast<uint64_t>(config.get_int("train.seed")));
  std::vector<CrystalCheck> checks;
  for (const data::Structure& s : samples) checks.push_back(check_crystal(s));

  report::Section section;
  section.heading = "Generated crystals";
  section.text = std::to_string(n) + " prior samples, as elbo sample draws them: z ~ p(z), one draw of p(crystal | z) "
                 "each (seed train.seed). Valid as CDVAE counts it (Xie et al. 2022): every minimum-image interatomic "
                 "distance > 0.5 A and the cell volume > 0.1 A^3. Below the chart, the first " +
                 std::to_string(std::min(n, kPicturedCells)) + " cells projected on their ab planes (also cells.svg). "
                 "Composition validity, matches, coverage and novelty: bench/crystal_metrics.py.";
  section.table = {{"prior samples", crystal_summary(checks)}};

  report::LinePlot plot{"Samples: minimum distance against volume per atom", "volume per atom (A^3)",
                        "minimum interatomic distance (A)", {}};
  report::Series valid{"valid"}, invalid{"invalid (a distance <= 0.5 A or volume <= 0.1 A^3)"};
  valid.points = invalid.points = true;
  double lo = INFINITY, hi = -INFINITY;
  report::Chart table;
  table.columns = {"name", "formula", "atoms", "volume per atom (A^3)", "minimum distance (A)", "valid"};
  table.file_name = "generated_crystals.csv";
  for (const CrystalCheck& c : checks) {
    report::Series& s = c.valid ? valid : invalid;
    s.x.push_back(c.volume_per_atom), s.y.push_back(c.min_distance);
    if (std::isfinite(c.volume_per_atom)) lo = std::min(lo, c.volume_per_atom), hi = std::max(hi, c.volume_per_atom);
    table.rows.push_back({c.name, c.formula, std::to_string(c.atoms), report::fixed(c.volume_per_atom, 2),
                          report::fixed(c.min_distance, 3), c.valid ? "yes" : "no"});
  }
  for (report::Series* s : {&valid, &invalid})
    if (!s->x.empty()) plot.series.push_back(*s);
  if (std::isfinite(lo)) plot.series.push_back({"0.5 A: the validity threshold", {lo, hi}, {0.5, 0.5}});
  table.svg = report::render_svg(plot);

  const std::vector<data::Structure> pictured(samples.begin(), samples.begin() + std::min(n, kPicturedCells));
  report::Chart cells = cell_projections(pictured, kPictureColumns);
  write_file_atomic(dir + "/cells.svg", cells.svg);
  section.charts = {table, cells};
  return section;
}

}  // namespace elbo::run
