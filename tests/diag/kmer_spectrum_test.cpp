#include "elbo/diag/kmer_spectrum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace elbo::diag;
using torch::Tensor;

TEST(KmerSpectrum, CodesAndRunsByHand) {
  // ACGT with G unknown, k = 3: codes of the 3-mers ending at each position (bases before the start and the
  // unknown one as 0), runs of known bases ending there, capped at 3.
  const Tensor x = torch::tensor({0, 1, 2, 3}, torch::kFloat).view({1, 4});
  const KmerCodes c = kmer_codes(x, torch::tensor({1, 1, 0, 1}).view({1, 4}), 3);
  EXPECT_TRUE(torch::equal(c.code, torch::tensor({0, 1, 4, 19}, torch::kLong).view({1, 4})));  // AC? = 4 + 0, C?T = 16 + 3
  EXPECT_TRUE(torch::equal(c.run, torch::tensor({1, 2, 0, 1}, torch::kLong).view({1, 4})));
}

TEST(KmerSpectrum, CountsByHandSkipMaskedBasesAndWindowEdges) {
  // ACGT and TTTT, k = 2: AC CG GT once each, TT three times; nothing across the two windows (TA).
  const Tensor x = torch::tensor({0, 1, 2, 3, 3, 3, 3, 3}, torch::kLong).view({2, 4});
  Tensor counts = kmer_counts(x, {}, 2);
  ASSERT_EQ(counts.numel(), 16);
  EXPECT_EQ(counts.scalar_type(), torch::kDouble);
  Tensor expected = torch::zeros({16}, torch::kDouble);
  expected[1] = 1, expected[6] = 1, expected[11] = 1, expected[15] = 3;
  EXPECT_TRUE(torch::equal(counts, expected));
  // G unknown: CG and GT are skipped.
  const Tensor mask = torch::tensor({1, 1, 0, 1, 1, 1, 1, 1}).view({2, 4});
  expected[6] = 0, expected[11] = 0;
  EXPECT_TRUE(torch::equal(kmer_counts(x, mask, 2), expected));
  // Every k = 1..3 at once equals one k at a time; N (L - k + 1) k-mers without a mask.
  const Tensor y = torch::randint(4, {30, 50}, torch::kLong);
  const auto spectra = kmer_spectra(y, {}, 3);
  ASSERT_EQ(spectra.size(), 3u);
  for (int64_t k = 1; k <= 3; ++k) {
    EXPECT_TRUE(torch::equal(spectra[k - 1], kmer_counts(y, {}, k)));
    EXPECT_EQ(spectra[k - 1].sum().item<double>(), 30 * (50 - k + 1));
  }
  // The 3-mer counts summed over the last base are the 2-mers not ending a window.
  const Tensor tail = torch::bincount((y.select(1, 48) * 4 + y.select(1, 49)), {}, 16).to(torch::kDouble);
  EXPECT_TRUE(torch::equal(spectra[2].view({16, 4}).sum(1), spectra[1] - tail));
}

TEST(KmerSpectrum, JensenShannonClosedForms) {
  const Tensor p = torch::tensor({3.0, 1.0, 0.0, 4.0});
  EXPECT_DOUBLE_EQ(jensen_shannon_bits(p, p), 0.0);
  EXPECT_DOUBLE_EQ(jensen_shannon_bits(p, 10 * p), 0.0);  // counts are normalized
  EXPECT_NEAR(jensen_shannon_bits(torch::tensor({1.0, 2.0, 0.0, 0.0}), torch::tensor({0.0, 0.0, 5.0, 1.0})), 1.0, 1e-15);
  // (1, 0) against (1/2, 1/2): m = (3/4, 1/4), JSD = H(m) - (H(p) + H(q)) / 2 = H(3/4) - 1/2.
  const double h = -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25));
  EXPECT_NEAR(jensen_shannon_bits(torch::tensor({1.0, 0.0}), torch::tensor({1.0, 1.0})), h - 0.5, 1e-15);
  const Tensor a = torch::rand({64}, torch::kDouble), b = torch::rand({64}, torch::kDouble);
  EXPECT_DOUBLE_EQ(jensen_shannon_bits(a, b), jensen_shannon_bits(b, a));
  EXPECT_GT(jensen_shannon_bits(a, b), 0.0);
  EXPECT_THROW(jensen_shannon_bits(torch::zeros({4}), p), std::invalid_argument);
  EXPECT_THROW(jensen_shannon_bits(torch::ones({3}), p), std::invalid_argument);
}

TEST(KmerSpectrum, GcContentByHand) {
  // ACGT: 1/2; CCGA: 3/4; CCGA with G unknown: 2 of 3; nothing known: NaN.
  const Tensor x = torch::tensor({0, 1, 2, 3, 1, 1, 2, 0, 1, 1, 2, 0, 1, 1, 1, 1}, torch::kFloat).view({4, 4});
  const Tensor mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0}).view({4, 4});
  const Tensor gc = gc_content(x, mask);
  EXPECT_DOUBLE_EQ(gc[0].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(gc[1].item<double>(), 0.75);
  EXPECT_DOUBLE_EQ(gc[2].item<double>(), 2.0 / 3);
  EXPECT_TRUE(std::isnan(gc[3].item<double>()));
  EXPECT_DOUBLE_EQ(gc_content(x.slice(0, 0, 2))[1].item<double>(), 0.75);
}

TEST(KmerSpectrum, ShuffleKeepsEachWindowsCompositionAndItsUnknownBases) {
  const Tensor x = torch::randint(4, {20, 100}, torch::kFloat);
  const Tensor mask = (torch::rand({20, 100}) > 0.1).to(torch::kFloat);
  const Tensor s = shuffle_within(x, mask, 9);
  ASSERT_EQ(s.sizes(), x.sizes());
  EXPECT_EQ(s.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(s, shuffle_within(x, mask, 9)));
  EXPECT_FALSE(torch::equal(s, shuffle_within(x, mask, 10)));
  EXPECT_TRUE(torch::equal(s.masked_select(mask == 0), x.masked_select(mask == 0)));  // unknown ones stay
  EXPECT_TRUE(torch::equal(kmer_counts(s.view({1, -1}), mask.view({1, -1}), 1), kmer_counts(x.view({1, -1}), mask.view({1, -1}), 1)));
  for (int64_t i = 0; i < 20; ++i) {  // per window: the same known bases
    const Tensor known = mask[i] != 0;
    EXPECT_TRUE(torch::equal(std::get<0>(s[i].masked_select(known).sort()), std::get<0>(x[i].masked_select(known).sort())));
  }
  EXPECT_GT((s != x).sum().item<int64_t>(), 1000);  // 3/4 of the known bases move to a different value
  // The order within a window is destroyed: dinucleotides of a periodic ACGTACGT... become about independent.
  const Tensor periodic = torch::arange(4000, torch::kLong).remainder(4).view({20, 200});
  const Tensor pairs = kmer_counts(shuffle_within(periodic, {}, 1), {}, 2);
  EXPECT_GT(pairs.index({torch::tensor({0, 5, 10, 15})}).sum().item<double>(), 500);  // AA CC GG TT: ~ 1/4 of 3980
}

}  // namespace
