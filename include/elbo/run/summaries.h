#pragma once
// Each diagnostic as an aligned table for the terminal and as a section of the HTML report.
#include "elbo/diag/classification.h"
#include "elbo/diag/disentanglement.h"
#include "elbo/diag/gaps.h"
#include "elbo/diag/imputation.h"
#include "elbo/diag/information.h"
#include "elbo/diag/summary.h"
#include "elbo/report/html.h"

#include "elbo/core/json_fwd.h"

#include <cmath>
#include <string>
#include <vector>

namespace elbo::run {

/// One line of an aligned terminal table: two spaces, the key padded to `width`, the value.
std::string table_row(const std::string& key, const std::string& value, int width = 34);

/// The values of a tensor as doubles, in row-major order (for plots).
std::vector<double> to_doubles(const torch::Tensor& t);

/// Mean, standard deviation (n - 1) and count of the finite values of a tensor: NaN mean and sd when there are
/// none (or the tensor is undefined), sd 0 for one. As JSON {"mean": .., "sd": ..}, non-finite as null.
struct MeanSd {
  double mean = NAN, sd = NAN;
  int64_t n = 0;
  double se() const { return n > 0 ? sd / std::sqrt(static_cast<double>(n)) : NAN; }  ///< of the mean
};
MeanSd mean_sd(const torch::Tensor& values);
void to_json(Json& j, const MeanSd& m);

/// Sequence data: -ELBO and -IWAE per known base in bits (upper bounds on the entropy rate).
std::string bits_per_base_table(double elbo, double iwae, double se, int64_t k);

/// The evidence summary: ELBO, IWAE log p(x), gap, Pinsker bound, active units, KL per layer and dimension.
std::string summary_table(const diag::Summary& summary);
/// A warning naming the remedies when fewer than half of the latent units are active; "" otherwise.
std::string collapse_warning(const diag::Summary& summary);

/// The test error and confusion matrix of a model's classifier.
std::string classification_table(const diag::Classification& c);
report::Section classification_section(const diag::Classification& c);

/// The imputation scores; the section shows the picture at `picture` (a path; "" = none).
std::string imputation_table(const diag::ImputationScores& s);
report::Section imputation_section(const diag::ImputationScores& s, const std::string& picture);

/// Approximation, amortization and total gaps (Cremer et al. 2018) with Pinsker bounds.
std::string gaps_table(const diag::Gaps& g);
report::Section gaps_section(const diag::Gaps& g);

/// Mutual information, rate, distortion and KL(q(z) || p(z)).
std::string information_table(const diag::Information& i);
report::Section information_section(const diag::Information& i);

/// The MIG and each factor's gap (Chen et al. 2018).
std::string mig_table(const diag::Mig& m);
report::Section mig_section(const diag::Mig& m);

}  // namespace elbo::run
