// The product-of-experts posterior of a multimodal VAE: exact for a linear-Gaussian multimodal
// model for every subset of modalities (with the exact experts set by hand, and learned from data
// by the MVAE objective with its subset ELBOs); absent modalities drop out of q and of log p.
#include "elbo/model/multimodal_vae.h"
#include "elbo/objective/elbo.h"

#include "support/multimodal_linear_gaussian.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace elbo::model {
namespace {

using testing::MultimodalLinearGaussian;

/// Rows x with modality a and/or b present.
Batch with_modalities(const torch::Tensor& x, bool a, bool b) {
  Batch batch;
  batch.x = x;
  batch.mask = torch::zeros_like(x);
  if (a) batch.mask.narrow(1, 0, 2).fill_(1);
  if (b) batch.mask.narrow(1, 2, 3).fill_(1);
  return batch;
}

const std::pair<bool, bool> kSubsets[] = {{true, false}, {false, true}, {true, true}};

TEST(MultimodalVae, ProductOfExactExpertsIsTheExactPosteriorOfEverySubset) {
  torch::manual_seed(3);
  MultimodalLinearGaussian truth;
  MultimodalVae m = truth.model(/*exact_experts=*/true);
  const torch::Tensor x = truth.sample(16);
  for (const auto& [a, b] : kSubsets) {
    SCOPED_TRACE(std::string(a ? "a" : "") + (b ? "b" : ""));
    const auto exact = truth.subset(a, b);
    std::vector<torch::Tensor> parts;
    if (a) parts.push_back(x.narrow(1, 0, 2));
    if (b) parts.push_back(x.narrow(1, 2, 3));
    const torch::Tensor xs = torch::cat(parts, 1);
    const Batch batch = with_modalities(x, a, b);
    const auto q = std::dynamic_pointer_cast<dist::Normal>(m->posterior(batch));
    ASSERT_TRUE(q);
    EXPECT_TRUE(torch::allclose(q->loc(), exact->posterior_mean(xs), 1e-10, 1e-10));
    EXPECT_TRUE(torch::allclose(q->scale(), torch::diagonal(exact->posterior_covariance()).sqrt().expand_as(q->scale()),
                                1e-10, 1e-10));
    // q is the exact posterior, so every importance weight p(x_S, z) / q(z | x_S) is p(x_S).
    const Trace trace = m->forward(batch, 7);
    EXPECT_TRUE(torch::allclose(trace.log_weights(), exact->log_evidence(xs).expand({7, 16}), 1e-8, 1e-8));
  }
}

TEST(MultimodalVae, RowWithoutModalitiesHasThePriorAndNoLikelihood) {
  MultimodalLinearGaussian truth;
  MultimodalVae m = truth.model(true);
  const Batch nothing = with_modalities(truth.sample(3), false, false);
  const auto q = std::dynamic_pointer_cast<dist::Normal>(m->posterior(nothing));
  EXPECT_TRUE(torch::allclose(q->loc(), torch::zeros({3, 2}, torch::kDouble)));
  EXPECT_TRUE(torch::allclose(q->scale(), torch::ones({3, 2}, torch::kDouble)));
  EXPECT_TRUE(torch::equal(m->forward(nothing, 2).log_likelihood(), torch::zeros({2, 3}, torch::kDouble)));
}

TEST(MultimodalVae, TrainingRowsAddEachModalityAloneAndNoDuplicates) {
  MultimodalLinearGaussian truth;
  auto o = truth.model(false)->options();
  o.subsets = true;
  MultimodalVae m(o);
  Batch batch;
  batch.x = torch::randn({3, 5});
  batch.mask = torch::ones({3, 5});
  batch.mask[1].narrow(0, 2, 3).zero_();  // row 1 has only a
  const Batch rows = m->training_rows(batch).given;
  // 3 rows, then rows 0 and 2 with a alone, then rows 0 and 2 with b alone.
  ASSERT_EQ(rows.size(), 7);
  const torch::Tensor a_only = torch::tensor({1, 1, 0, 0, 0}, torch::kFloat), b_only = 1 - a_only;
  for (int64_t r : {3, 4}) EXPECT_TRUE(torch::equal(rows.mask[r], a_only));
  for (int64_t r : {5, 6}) EXPECT_TRUE(torch::equal(rows.mask[r], b_only));
  EXPECT_TRUE(torch::equal(rows.x[4], batch.x[2]));
  EXPECT_TRUE(torch::equal(m->training_rows(batch).scored.mask, rows.mask));  // MVAE: a subset scores itself
  o.subsets_score_present = true;  // each subset's ELBO scores both modalities of rows 0 and 2
  const Batch scored = MultimodalVae(o)->training_rows(batch).scored;
  for (int64_t r = 3; r < 7; ++r) EXPECT_TRUE(torch::equal(scored.mask[r], torch::ones({5}))) << r;
  m->eval();
  EXPECT_EQ(m->forward(batch, 1).batch_size(), 3);  // evaluation scores the rows as they are
}

class MultimodalTrainingTrace : public ::testing::TestWithParam<bool> {};

TEST_P(MultimodalTrainingTrace, IsTheTraceOfTheTrainingRows) {
  // Training runs each expert once and each decoder on the rows that score its modality; the
  // result is the trace of training_rows(batch) scored as evaluation scores rows (same subsets,
  // same noise), term by term and in the gradients: the scored rows under the posterior of the
  // given rows.
  MultimodalLinearGaussian truth;
  auto o = truth.model(false)->options();
  o.subsets = true;
  o.random_subsets = 2;  // drawn once per batch: the rows and the product must be the same draw
  o.subsets_score_present = GetParam();
  torch::manual_seed(8);
  MultimodalVae m(o);
  m->to(torch::kDouble);
  Batch batch;
  batch.x = torch::randn({6, 5}, torch::kDouble);
  batch.mask = torch::ones({6, 5}, torch::kDouble);
  batch.mask[1].narrow(0, 2, 3).zero_();  // row 1 has only a
  batch.mask[4].narrow(0, 0, 2).zero_();  // row 4 has only b
  const auto terms = [&](const Trace& t) { return torch::stack({t.log_likelihood(), t.kl(true).expand_as(t.log_likelihood())}); };
  const auto gradients = [&](const Trace& t) {
    return torch::autograd::grad({(t.log_likelihood() - t.kl(true)).sum()}, m->parameters(), {}, false, true);
  };
  m->train();
  torch::manual_seed(9);
  const Trace fast = m->forward(batch, 2);
  torch::manual_seed(9);  // the same subsets, then the same noise
  const auto rows = m->training_rows(batch);
  ASSERT_GT(rows.given.size(), 6 + 2 * 4);  // 4 rows have both modalities: each alone, and random proper subsets
  m->eval();
  const Trace reference = m->forward_with(rows.scored, m->posterior(rows.given), 2);
  EXPECT_TRUE(torch::allclose(terms(fast), terms(reference), 1e-10, 1e-12));
  m->train();
  const auto a = gradients(fast), b = gradients(reference);
  for (size_t i = 0; i < a.size(); ++i)
    if (b[i].defined()) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-9, 1e-12)) << m->named_parameters().keys()[i];
}

INSTANTIATE_TEST_SUITE_P(SubsetTerms, MultimodalTrainingTrace, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ScoringAllPresent" : "ScoringTheSubset"; });

TEST(MultimodalVae, SubsetElbosTeachEachExpertItsExactFactor) {
  // The decoders are the true ones and stay fixed; the linear experts start at random and learn
  // from the MVAE objective (full + single-modality ELBOs). Each subset's q then approaches the
  // exact posterior: KL(q_S || p(z | x_S)) per row, averaged, falls from nats to near 0.
  torch::manual_seed(5);
  MultimodalLinearGaussian truth;
  auto o = truth.model(false)->options();
  o.subsets = true;
  MultimodalVae m = truth.model(false);
  MultimodalVae trained(o);
  trained->to(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    auto from = m->named_parameters();
    for (auto& p : trained->named_parameters())
      if (p.key().rfind("decoder_", 0) == 0) p.value().copy_(from[p.key()]);
  }
  std::vector<torch::Tensor> experts;
  for (auto& p : trained->named_parameters())
    if (p.key().rfind("expert_", 0) == 0) experts.push_back(p.value());
    else p.value().set_requires_grad(false);
  const torch::Tensor test = truth.sample(500);
  auto mean_kl = [&](bool a, bool b) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    if (a) parts.push_back(test.narrow(1, 0, 2));
    if (b) parts.push_back(test.narrow(1, 2, 3));
    return truth.subset(a, b)
        ->kl_to_posterior(torch::cat(parts, 1), trained->posterior(with_modalities(test, a, b)))
        .mean()
        .item<double>();
  };
  const double before = mean_kl(true, true);
  torch::optim::Adam adam(experts, torch::optim::AdamOptions(0.02));
  objective::Elbo elbo;
  trained->train();
  for (int step = 0; step < 1500; ++step) {
    Batch batch = with_modalities(truth.sample(128), true, true);
    adam.zero_grad();
    elbo(trained->forward(batch, 1), step).loss.backward();
    adam.step();
  }
  trained->eval();
  EXPECT_GT(before, 0.5);
  for (const auto& [a, b] : kSubsets) {
    SCOPED_TRACE(std::string(a ? "a" : "") + (b ? "b" : ""));
    EXPECT_LT(mean_kl(a, b), 0.02);
  }
}

}  // namespace
}  // namespace elbo::model
