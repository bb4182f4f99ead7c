#pragma once
// The section of a crystal run's report: generated structures, measured and pictured.
#include "elbo/core/config.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"

#include <string>

namespace elbo::run {

/// Cells pictured in the crystal section (the first of its samples) and panels per row.
constexpr int64_t kPicturedCells = 8;
constexpr int64_t kPictureColumns = 4;

/// "Generated crystals" for report.html of a crystal run (model.type = "crystal"): n = min(report.samples,
/// report::kChartTableRows) prior samples drawn as elbo sample draws them (z ~ p(z), one draw of
/// p(crystal | z); run::sample_crystals with seed train.seed), each checked (run::check_crystal: formula,
/// volume per atom, minimum interatomic distance, CDVAE's structural validity):
///  - a summary table (valid count, run::crystal_summary);
///  - a chart of minimum distance against volume per atom, valid and invalid samples as two marker
///    series and the 0.5 A validity line, whose numbers are the table of the n structures (name,
///    formula, atoms, volume per atom, minimum distance, valid), shown under it;
///  - the first kPicturedCells cells projected on their ab planes (run::cell_projections),
///    kPictureColumns per row, also written to DIR/cells.svg.
/// Throws std::invalid_argument for a run that is not a crystal run.
report::Section crystal_section(model::Model& model, const Config& config, const std::string& dir);

}  // namespace elbo::run
