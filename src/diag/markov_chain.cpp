#include "elbo/diag/markov_chain.h"

#include "elbo/core/check.h"
#include "elbo/diag/kmer_spectrum.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace elbo::diag {

using torch::Tensor;

MarkovChain MarkovChain::fit(const Tensor& windows, const Tensor& mask, int64_t order, int64_t classes, double alpha) {
  ELBO_CHECK(order >= 0 && order <= 12, "diag::MarkovChain::fit: order must be in 0..12 (got ", order, ")");
  ELBO_CHECK(std::isfinite(alpha) && alpha > 0, "diag::MarkovChain::fit: the pseudocount alpha must be > 0 (got ",
             alpha, ")");
  MarkovChain chain;
  chain.order_ = order;
  chain.classes_ = classes;
  chain.alpha_ = alpha;
  // The (j + 1)-mers are exactly the (context of length j, next symbol) pairs, context first.
  std::vector<Tensor> spectra = kmer_spectra(windows, mask, order + 1, classes);
  for (int64_t j = 0; j <= order; ++j) chain.counts_.push_back(spectra[j].view({-1, classes}));
  return chain;
}

MarkovChain MarkovChain::truncated(int64_t j) const {
  counts(j);  // checks j
  MarkovChain chain = *this;
  chain.order_ = j;
  chain.counts_.resize(j + 1);
  return chain;
}

const Tensor& MarkovChain::counts(int64_t j) const {
  ELBO_CHECK(j >= 0 && j <= order_, "diag::MarkovChain: order ", j, " is not in 0..", order_);
  return counts_[j];
}

Tensor MarkovChain::probabilities(int64_t j) const {
  const Tensor& n = counts(j);
  return (n + alpha_) / (n.sum(1, true) + static_cast<double>(classes_) * alpha_);
}

Tensor MarkovChain::log_prob(const Tensor& windows, const Tensor& mask) const {
  // One flat table of log p_j(s | c) for all orders: order j's cells (its (j+1)-mer codes) start at
  // sum_{r=1}^{j} C^r; a position with m = j + 1 known bases ending at it reads cell offset[m] + code mod C^m.
  std::vector<Tensor> tables;
  std::vector<int64_t> offset = {0, 0}, power = {1};
  for (int64_t j = 0; j <= order_; ++j) {
    tables.push_back(probabilities(j).log().reshape({-1}));
    power.push_back(power.back() * classes_);
    offset.push_back(offset.back() + power.back());
  }
  const Tensor flat = torch::cat(tables), offsets = torch::tensor(offset), powers = torch::tensor(power);
  ELBO_CHECK(windows.defined() && windows.dim() == 2, "diag::MarkovChain::log_prob: windows must be [N, L]");
  Tensor out = torch::zeros({windows.size(0)}, torch::kDouble);
  const int64_t rows = std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, windows.size(1)));
  for (int64_t begin = 0; begin < windows.size(0); begin += rows) {
    const int64_t end = std::min(windows.size(0), begin + rows);
    const KmerCodes c = kmer_codes(windows.slice(0, begin, end), mask.defined() ? mask.slice(0, begin, end) : mask,
                                   order_ + 1, classes_);
    const Tensor cell = offsets.index({c.run}) + c.code.remainder(powers.index({c.run}));
    out.slice(0, begin, end) = torch::where(c.run > 0, flat.index({cell}), torch::zeros({}, torch::kDouble)).sum(1);
  }
  return out;
}

Tensor MarkovChain::sample(int64_t n, int64_t length, uint64_t seed) const {
  ELBO_CHECK(n >= 0 && length >= 0, "diag::MarkovChain::sample: n and length must be >= 0 (got ", n, ", ", length,
             ")");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const Tensor u = torch::rand({n, length}, gen, torch::kDouble);
  std::vector<Tensor> cumulative;
  for (int64_t j = 0; j <= order_; ++j) cumulative.push_back(probabilities(j).cumsum(1));
  int64_t context_size = 1;  // C^k
  for (int64_t j = 0; j < order_; ++j) context_size *= classes_;
  Tensor out = torch::empty({n, length}, torch::kLong), history = torch::zeros({n}, torch::kLong);
  for (int64_t i = 0; i < length; ++i) {
    // Inverse CDF: the symbol is the number of cumulative probabilities below u (the last one if rounding
    // leaves the total under u). history holds the code of the last min(i, k) symbols.
    const Tensor cdf = cumulative[std::min(i, order_)].index_select(0, history);
    const Tensor s = (u.select(1, i).unsqueeze(1) >= cdf).sum(1).clamp_max(classes_ - 1);
    out.select(1, i).copy_(s);
    history = (history * classes_ + s).remainder(context_size);
  }
  return out;
}

double bits_per_base(const MarkovChain& chain, const Tensor& windows, const Tensor& mask) {
  const double scored = mask.defined() ? (mask != 0).sum().item<double>() : static_cast<double>(windows.numel());
  ELBO_CHECK(scored > 0, "diag::bits_per_base: no known base to score");
  return -chain.log_prob(windows, mask).sum().item<double>() / (std::log(2.0) * scored);
}

}  // namespace elbo::diag
