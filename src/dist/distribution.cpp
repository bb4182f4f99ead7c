#include "elbo/dist/distribution.h"

#include "elbo/core/check.h"
#include "detail.h"

#include <limits>

namespace elbo::dist {
namespace detail {

std::vector<int64_t> broadcast_shapes(c10::IntArrayRef a, c10::IntArrayRef b,
                                      const std::string& who, const std::string& what) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    ELBO_CHECK(da == db || da == 1 || db == 1, who, ": ", what, " shapes do not broadcast (", a,
               " vs ", b, ")");
    out[n - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

void check_parameter(const torch::Tensor& t, const std::string& who, const std::string& what) {
  ELBO_CHECK(t.defined(), who, ": ", what, " is undefined");
  ELBO_CHECK(t.is_floating_point(), who, ": ", what, " must be a floating-point tensor (got ",
             t.scalar_type(), ")");
}

void broadcast_loc_scale(torch::Tensor& loc, torch::Tensor& log_scale, const std::string& who) {
  check_parameter(loc, who, "loc");
  check_parameter(log_scale, who, "log_scale");
  ELBO_CHECK(loc.device() == log_scale.device(), who, ": loc and log_scale are on different devices (",
             loc.device(), " vs ", log_scale.device(), ")");
  const auto shape = broadcast_shapes(loc.sizes(), log_scale.sizes(), who, "loc and log_scale");
  loc = loc.expand(shape);
  log_scale = log_scale.expand(shape);
}

void check_value(const torch::Tensor& x, c10::IntArrayRef params, const std::string& who) {
  ELBO_CHECK(x.defined(), who, "::log_prob: x is undefined");
  broadcast_shapes(x.sizes(), params, who + "::log_prob", "x and parameter");
}

torch::Tensor softplus(const torch::Tensor& x) { return torch::logaddexp(x, scalar_like(x, 0.0)); }

torch::Tensor scalar_like(const torch::Tensor& x, double value) {
  return torch::full({}, value, x.options());
}

double epsilon(const torch::Tensor& x) {
  switch (x.scalar_type()) {
    case torch::kDouble: return std::numeric_limits<double>::epsilon();
    case torch::kHalf: return 0x1p-10;
    case torch::kBFloat16: return 0x1p-7;
    default: return std::numeric_limits<float>::epsilon();
  }
}

}  // namespace detail

Tensor Distribution::log_prob(const Tensor& x, const Tensor& mask) const {
  if (!mask.defined()) return log_prob_sum(x);
  const std::string who = "elbo::dist::" + name() + "::log_prob";
  ELBO_CHECK(x.defined(), who, ": x is undefined");
  detail::broadcast_shapes(x.sizes(), mask.sizes(), who, "x and mask");
  const Tensor keep = mask != 0;
  // Masked values are replaced by 0 (in every support here) before scoring, so a
  // NaN there cannot reach the gradient, then their terms are dropped exactly.
  const Tensor elements = log_prob_elements(torch::where(keep, x, torch::zeros({}, x.options())));
  return torch::where(keep, elements, torch::zeros({}, elements.options())).sum(-1);
}

std::vector<Tensor> Distribution::parameters() const {
  ELBO_CHECK(false, "elbo::dist::", name(), " does not expose its parameters (needed for per-example refinement)");
  return {};
}

std::shared_ptr<Distribution> Distribution::with_parameters(const std::vector<Tensor>&) const {
  ELBO_CHECK(false, "elbo::dist::", name(), " cannot be rebuilt from parameters (needed for per-example refinement)");
  return nullptr;
}

Tensor Distribution::rsample(int64_t) const {
  ELBO_CHECK(false, "elbo::dist::", name(), ": ", name(),
             " is not reparameterizable; use sample() (no gradient) instead of rsample()");
  return {};
}

Tensor Distribution::sample(int64_t k) const {
  torch::NoGradGuard no_grad;
  return rsample(k);
}

Tensor Distribution::entropy_elements() const {
  ELBO_CHECK(false, "elbo::dist::", name(), ": ", name(), " has no closed-form entropy");
  return {};
}

Tensor Distribution::entropy() const { return entropy_elements().sum(-1); }

std::vector<int64_t> Distribution::particle_shape(int64_t k) const {
  ELBO_CHECK(k >= 0, "elbo::dist::", name(), ": number of samples must be >= 0 (got ", k, ")");
  std::vector<int64_t> shape = sample_shape();
  if (k > 0) shape.insert(shape.begin(), k);
  return shape;
}

DistributionPtr slice_rows(const Distribution& q, int64_t begin, int64_t end, const torch::TensorOptions& options) {
  std::vector<Tensor> rows;
  for (const auto& p : q.parameters()) rows.push_back(p.slice(0, begin, end).to(options));
  return q.with_parameters(rows);
}

DistributionPtr cat_rows(const std::vector<DistributionPtr>& parts, const torch::TensorOptions& options) {
  ELBO_CHECK(!parts.empty(), "elbo::dist::cat_rows: no distributions to stack");
  std::vector<std::vector<Tensor>> columns;  // per parameter, per part
  for (const auto& q : parts) {
    const auto params = q->parameters();
    columns.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) columns[i].push_back(params[i].to(options));
  }
  std::vector<Tensor> joined;
  for (const auto& c : columns) joined.push_back(torch::cat(c));
  return parts.front()->with_parameters(joined);
}

}  // namespace elbo::dist
