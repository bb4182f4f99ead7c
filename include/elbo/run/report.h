#pragma once
// The self-contained HTML report of a run.
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/diag/summary.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"

#include <string>
#include <vector>

namespace elbo::run {

/// Writes samples.png, reconstructions.png, interpolation.png, traversal.png (images) or
/// samples.csv (tables), curves.svg (from metrics.jsonl) and the self-contained report.html,
/// headed by the model's describe() and the summary; `extra` sections (e.g. the gaps and
/// information of an evaluation) come last.
void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra = {});

}  // namespace elbo::run
