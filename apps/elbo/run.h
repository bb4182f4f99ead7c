#pragma once
// A run directory: config.toml, checkpoint.pt, metrics.jsonl, images, report.html.
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/data/load.h"
#include "elbo/diag/classification.h"
#include "elbo/diag/cross_modal.h"
#include "elbo/diag/imputation.h"
#include "elbo/diag/summary.h"
#include "elbo/model/model.h"
#include "elbo/report/html.h"
#include "elbo/train/checkpoint.h"

#include <memory>
#include <string>
#include <vector>

namespace elbo::cli {

inline std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.pt"; }

/// A trained run loaded back for evaluation or generation.
struct LoadedRun {
  std::string dir;
  Config config;
  train::CheckpointInfo info;
  std::shared_ptr<model::Model> model;
};

/// Reads RUN/checkpoint.pt (its stored config rebuilds the model). Errors name the path.
LoadedRun load_run(const std::string& dir);

/// Creates the directory (and parents); a clear error if it cannot be written.
void ensure_writable_dir(const std::string& dir);

/// Writes images [N, D] as a PNG grid (image data) or rows of CSV (anything else),
/// chosen by the file extension.
void write_examples(const std::string& path, const torch::Tensor& x, const ImageShape& image, int64_t columns);

/// One parsed line of metrics.jsonl: its "type" and numeric fields.
struct MetricsLine {
  std::string type;
  std::vector<std::pair<std::string, double>> values;
  double get(const std::string& key) const;
};
std::vector<MetricsLine> read_metrics(const std::string& path);

/// Decoded means for the report: prior samples (a conditional model: one row per class),
/// reconstructions, interpolations.
struct Pictures {
  torch::Tensor samples, reconstructions, interpolation;
  int64_t sample_columns = 8, reconstruction_columns = 0, interpolation_columns = 0;
  torch::Tensor traversal;             ///< one row per latent dimension in traversal_dims
  std::vector<int64_t> traversal_dims;
  int64_t traversal_columns = 0;
  /// A model with labels and a code (conditional VAE, M2): per row a test image, then its code
  /// E_q[z|x] decoded with each class in turn (Kingma et al. 2014's analogies: style kept, class changed).
  torch::Tensor analogies;
  int64_t analogy_columns = 0;
};
/// `kl_per_dim` [D] (optional) orders the traversal rows: largest KL first.
Pictures make_pictures(model::Model& model, const data::Dataset& test, const Config& config,
                       const torch::Tensor& kl_per_dim = {});

/// Writes samples.png, reconstructions.png, interpolation.png (images) or
/// samples.csv (tables), curves.svg and the self-contained report.html;
/// `extra` sections (e.g. the gaps and information of elbo evaluate) come last.
void write_report(const std::string& dir, model::Model& model, const data::Dataset& test, const Config& config,
                  const diag::Summary& summary, const std::vector<report::Section>& extra = {});

/// Imputations of the first `rows` examples of `data` for a picture: per example the input (missing
/// entries grey), its mask, the true values, the imputed mean and four imputations.
struct ImputationPicture {
  torch::Tensor images;  ///< [rows * columns, D]
  int64_t columns = 0;
};
ImputationPicture imputation_picture(model::Model& model, const data::Dataset& data, int64_t rows, int64_t particles,
                                     uint64_t seed);
/// The imputation scores as a table for the terminal, and as a report section with the picture
/// at `picture` (a path; "" = none).
std::string imputation_table(const diag::ImputationScores& s);
report::Section imputation_section(const diag::ImputationScores& s, const std::string& picture);

/// Whether `s` ends in `tail` (an output file's type, e.g. ".png").
bool ends_with(const std::string& s, const std::string& tail);

/// Values in the data file's units (double): standardized columns mapped back (x * std + mean);
/// without a standardization, x as it is.
torch::Tensor original_units(const torch::Tensor& x, const data::Standardization& s);

/// Predictions of some modalities of a multimodal test set from others (diag::impute with the
/// `from` modalities observed and the `to` ones hidden), in blocks of rows.
struct MultimodalPrediction {
  torch::Tensor mean;            ///< [N, D] double: observed columns as given, the others E[x | x_from]
  torch::Tensor draws;           ///< [M, N, D] double completed copies
  torch::Tensor log_likelihood;  ///< [N] log p^(x_to | x_from) (0 where nothing of `to` is observed)
  torch::Tensor effective_sample_size;  ///< [N] 1 / sum_k w_k^2 of the self-normalized weights
  torch::Tensor scored;          ///< [N] bool: rows having a `from` and a `to` modality
  bool draws_are_means = false;  ///< each draw is E[x | z] of a resampled code (pictures)
};
MultimodalPrediction predict_modalities(model::Model& model, const data::Dataset& test, const std::vector<size_t>& from,
                                        const std::vector<size_t>& to, const diag::ImputationOptions& options);
/// Per predicted modality: RMSE of the mean and 90% coverage against predicting the training mean
/// (continuous), error of the mode against the most frequent training class (categorical); and
/// log p^(x_to | x_from) per row.
std::string prediction_table(const data::Splits& splits, const data::Dataset& test, const std::vector<size_t>& to,
                             const MultimodalPrediction& p);
/// The report's multimodal section: the cross-modal log-likelihoods, a 2-D projection of the latent
/// means coloured by which modalities each row has, and (image modalities) RUN/cross_generation.png:
/// per row the truth, then every modality decoded from each modality alone and from all.
report::Section multimodal_section(model::Model& model, const data::Dataset& test,
                                   const std::vector<diag::CrossModalScore>& scores, const std::string& dir, int64_t k);

/// What a model and test set call for beyond the evidence, appended to the JSON object `json`,
/// the terminal `table` and the report's `sections`: the classifier's test error and confusion
/// matrix (a model with a classifier, labelled data) and the imputation scores with a picture in
/// RUN/imputations.png (data with entries hidden by data.missing; K = eval.k, eval.impute_draws).
/// `batch_size`: examples per pass of the classifier.
void evaluate_extras(model::Model& model, const data::Dataset& test, const Config& config, const std::string& dir,
                     int64_t k, int64_t batch_size, std::string& json, std::string& table, std::vector<report::Section>& sections);

/// Warns on stderr when fewer than half of the latent units are active, naming the remedies.
void warn_if_collapsed(const diag::Summary& summary);

/// The summary as an aligned two-column table for the terminal.
std::string summary_table(const diag::Summary& summary);

/// The test error and confusion matrix of a model's classifier, as a table for the terminal.
std::string classification_table(const diag::Classification& c);
/// The same as a report section ("Confusion matrix").
report::Section classification_section(const diag::Classification& c);

}  // namespace elbo::cli
