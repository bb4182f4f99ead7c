#pragma once
// The self-contained HTML report of a run.
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/diag/summary.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"
#include "elbo/train/checkpoint.h"

#include <string>
#include <vector>

namespace elbo::run {

/// Writes samples.png, reconstructions.png, interpolation.png, traversal.png (images),
/// samples.csv (tables) or for a crystal run cells.svg and its "Generated crystals" section
/// (run/crystal_report.h), curves.svg (from metrics.jsonl) and the self-contained report.html,
/// headed by the step it shows (`shown`: the checkpoint the model is, if known), the model's
/// describe() and the summary; `extra` sections (e.g. the gaps and information of an
/// evaluation) come last.
void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra = {},
                  const train::CheckpointInfo* shown = nullptr);

struct ReportOptions {
  int64_t k = 0;          ///< importance samples K of the test summary (0: the run's eval.k)
  int64_t n = -1;         ///< test examples, the first n (0: all; -1: the run's eval.n)
  bool progress = false;  ///< progress lines on stderr
};

/// What rebuild_report showed: the checkpoint's step (-1: none yet) and the last step of metrics.jsonl.
struct ReportState {
  int64_t checkpoint_step = -1;
  int64_t metrics_step = -1;
};

/// `elbo report`: rebuilds RUN/report.html from what the run directory holds now, also while
/// `elbo train` is writing it: the training curves from metrics.jsonl up to its last complete
/// line and, once there is a checkpoint, the model at that checkpoint evaluated on the test data
/// (pictures and summary as elbo evaluate makes them; evaluation.json is left alone). The report
/// says which step it shows. A directory with neither metrics.jsonl nor checkpoint.pt is refused
/// (std::invalid_argument) naming both.
ReportState rebuild_report(const std::string& dir, const ReportOptions& options = {});

}  // namespace elbo::run
