#pragma once
// Evaluating a trained model the way elbo train and elbo evaluate do: the evidence summary, what
// the model and data call for, and the gaps and information when asked.
#include "elbo/core/config.h"
#include "elbo/core/json.h"
#include "elbo/data/dataset.h"
#include "elbo/diag/summary.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"
#include "elbo/run/run_directory.h"

#include <string>
#include <vector>

namespace elbo::run {

struct EvaluationOptions {
  int64_t k = 0;                ///< importance samples K per example (0: the run's eval.k)
  int64_t n = -1;               ///< test examples, the first n (0: all; -1: the run's eval.n)
  int64_t batch_size = 100;     ///< examples per pass
  bool gaps = false;            ///< also the approximation and amortization gaps (per-example q*, Cremer et al. 2018)
  int64_t refine_steps = 1000;  ///< most Adam steps of the per-example q* (gaps)
  bool information = false;     ///< also I(x;z), rate, distortion and KL(q(z) || p(z))
  bool progress = false;        ///< progress lines on stderr
};

/// An evaluation as JSON (evaluation.json), a table for the terminal and report sections.
struct Evaluation {
  diag::Summary summary;                  ///< ELBO, IWAE log p(x), gap, Pinsker bound, activity
  Json json;                              ///< the summary and every other score, by name
  std::string table;                      ///< aligned rows for the terminal
  std::vector<report::Section> sections;  ///< beyond the summary (classifier, imputation, gaps, ...)
};

/// Evaluates `model` on `test`: the evidence summary (IWAE with K particles), and what the model
/// and data call for: a classifier's error and confusion matrix (labelled data), imputation
/// scores (entries hidden by data.missing; picture RUN/imputations.png), cross-modal
/// log-likelihoods (two or more modalities; RUN/cross_generation.png), the MIG (data with known
/// factors); and the gaps and information when asked. `dir` receives the pictures.
Evaluation evaluate(model::Model& model, const data::Dataset& test, const Config& config, const std::string& dir,
                    const EvaluationOptions& options = {});

/// evaluate() of a run on the first n examples of its test data; writes RUN/evaluation.json (non-finite
/// numbers as null) and RUN/report.html, and warns on stderr of a posterior collapse.
Evaluation evaluate_run(const LoadedRun& run, const EvaluationOptions& options = {});

}  // namespace elbo::run
