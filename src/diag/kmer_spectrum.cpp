#include "elbo/diag/kmer_spectrum.h"

#include "elbo/core/check.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace elbo::diag {

using torch::Tensor;

namespace {

/// The known positions of windows [N, L] as bool, after checking the mask's shape.
Tensor known_positions(const char* fn, const Tensor& windows, const Tensor& mask) {
  ELBO_CHECK(windows.defined() && windows.dim() == 2, fn, ": windows must be [N, L] class indices (got ",
             windows.defined() ? windows.sizes() : c10::IntArrayRef{}, ")");
  ELBO_CHECK(!mask.defined() || mask.sizes() == windows.sizes(), fn, ": mask ", mask.sizes(),
             " must have the shape of the windows ", windows.sizes());
  return mask.defined() ? mask.detach().cpu() != 0 : torch::ones(windows.sizes(), torch::kBool);
}

/// Rows per pass of the counting loops: about 2^20 bases, so a few int64 [rows, L] buffers stay small.
int64_t rows_per_pass(int64_t length) { return std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, length)); }

}  // namespace

KmerCodes kmer_codes(const Tensor& windows, const Tensor& mask, int64_t k, int64_t classes) {
  constexpr const char* fn = "diag::kmer_codes";
  ELBO_CHECK(classes >= 2, fn, ": need at least 2 classes (got ", classes, ")");
  ELBO_CHECK(k >= 1 && k * std::log2(static_cast<double>(classes)) <= 62, fn, ": k = ", k, " must be >= 1 with ",
             classes, "^k < 2^62");
  const Tensor known = known_positions(fn, windows, mask);
  Tensor x = windows.detach().cpu();
  x = torch::where(known, x, torch::zeros({}, x.options()));
  const Tensor xl = x.to(torch::kLong);
  if (known.any().item<bool>()) {
    ELBO_CHECK(xl.min().item<int64_t>() >= 0 && xl.max().item<int64_t>() < classes && (xl == x).all().item<bool>(),
               fn, ": windows must hold class indices 0..", classes - 1, " at known positions (got values in [",
               x.min().item<double>(), ", ", x.max().item<double>(), "])");
  }
  const int64_t length = x.size(1);
  KmerCodes c{xl.clone(), known.to(torch::kLong)};
  Tensor all_known = known.clone();  // known[i - t .. i]
  int64_t power = 1;
  for (int64_t t = 1; t < std::min(k, length); ++t) {
    power *= classes;
    c.code.slice(1, t).add_(xl.slice(1, 0, length - t), power);
    all_known.slice(1, t).logical_and_(known.slice(1, 0, length - t));
    all_known.slice(1, t - 1, t).fill_(false);
    c.run.add_(all_known);
  }
  return c;
}

std::vector<Tensor> kmer_spectra(const Tensor& windows, const Tensor& mask, int64_t max_k, int64_t classes) {
  const Tensor known = known_positions("diag::kmer_spectra", windows, mask);
  std::vector<Tensor> counts;
  for (int64_t m = 1, size = classes; m <= max_k; ++m, size *= classes) counts.push_back(torch::zeros({size}, torch::kLong));
  const int64_t rows = rows_per_pass(windows.size(1));
  for (int64_t begin = 0; begin < windows.size(0); begin += rows) {
    const int64_t end = std::min(windows.size(0), begin + rows);
    const KmerCodes c = kmer_codes(windows.slice(0, begin, end), known.slice(0, begin, end), max_k, classes);
    for (int64_t m = 1; m <= max_k; ++m) {
      const int64_t size = counts[m - 1].numel();
      const Tensor cells = c.code.remainder(size).masked_select(c.run >= m);
      counts[m - 1] += torch::bincount(cells, {}, size);
    }
  }
  for (Tensor& t : counts) t = t.to(torch::kDouble);
  return counts;
}

Tensor kmer_counts(const Tensor& windows, const Tensor& mask, int64_t k, int64_t classes) {
  return kmer_spectra(windows, mask, k, classes).back();
}

double jensen_shannon_bits(const Tensor& p_counts, const Tensor& q_counts) {
  constexpr const char* fn = "diag::jensen_shannon_bits";
  ELBO_CHECK(p_counts.defined() && q_counts.defined() && p_counts.numel() == q_counts.numel() && p_counts.numel() > 0,
             fn, ": the two count vectors must have the same positive size");
  const Tensor p = p_counts.detach().cpu().to(torch::kDouble).reshape({-1}),
               q = q_counts.detach().cpu().to(torch::kDouble).reshape({-1});
  ELBO_CHECK(torch::isfinite(p).all().item<bool>() && torch::isfinite(q).all().item<bool>() &&
                 (p >= 0).all().item<bool>() && (q >= 0).all().item<bool>() && p.sum().item<double>() > 0 &&
                 q.sum().item<double>() > 0,
             fn, ": counts must be finite, >= 0 and not all 0");
  const Tensor pn = p / p.sum(), qn = q / q.sum(), m = (pn + qn) / 2;
  const auto kl_to_m = [&](const Tensor& a) {  // sum a log2(a / m) over a > 0 (there m >= a / 2 > 0)
    return torch::where(a > 0, a * (a / m).log2(), torch::zeros_like(a)).sum().item<double>();
  };
  return std::clamp((kl_to_m(pn) + kl_to_m(qn)) / 2, 0.0, 1.0);  // clamp: rounding only
}

Tensor gc_content(const Tensor& windows, const Tensor& mask) {
  const Tensor known = known_positions("diag::gc_content", windows, mask);
  const Tensor x = windows.detach().cpu();
  const Tensor gc = known & ((x == 1) | (x == 2));
  return gc.sum(1).to(torch::kDouble) / known.sum(1).to(torch::kDouble);  // 0 / 0 = NaN: nothing known
}

Tensor shuffle_within(const Tensor& windows, const Tensor& mask, uint64_t seed) {
  const Tensor known = known_positions("diag::shuffle_within", windows, mask);
  const Tensor x = windows.detach().cpu();
  const int64_t length = x.size(1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Known positions first in ascending order, the unknown after them in ascending order ...
  const Tensor index = torch::arange(length, torch::kDouble).expand(x.sizes());
  const Tensor in_order = torch::where(known, index, index + length).argsort(int64_t{1});
  // ... and the known positions in random order, the unknown after them in the same ascending order
  // (keys above 1): position in_order[j] receives the value at shuffled[j], unknown ones their own.
  const Tensor shuffled = torch::where(known, torch::rand(x.sizes(), gen, torch::kDouble), index + 2).argsort(int64_t{1});
  return x.clone().scatter_(1, in_order, x.gather(1, shuffled));
}

}  // namespace elbo::diag
