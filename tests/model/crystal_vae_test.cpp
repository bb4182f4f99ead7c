// The crystal VAE: its trace (sites, masks exact), an encoder invariant to the order of the atoms,
// the ELBO's gradient against float64 finite differences, training that improves the ELBO, and
// samples that are valid structures (lattices valid for any decoder output).
#include "elbo/model/crystal_vae.h"

#include "elbo/data/crystal_rows.h"
#include "elbo/data/lattice_map.h"
#include "elbo/dist/categorical.h"
#include "elbo/dist/joint.h"
#include "elbo/dist/normal.h"
#include "elbo/dist/wrapped_normal.h"
#include "elbo/model/crystal_coordinates.h"
#include "elbo/model/crystal_lattice.h"

#include "support/finite_difference.h"
#include "support/throws.h"

#include <gtest/gtest.h>

#include <torch/optim/adam.h>

#include <random>

namespace elbo::model {
namespace {

using data::Structure;
using data::Vec3;

/// n random crystals of 1..max_atoms atoms: a cell near a cube of side 3.5-5 A (angles 80-100),
/// elements from a small palette, coordinates on a 1/4 grid plus noise.
std::vector<Structure> generated(int64_t n, int64_t max_atoms, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> length(3.5, 5.0), angle(80, 100), noise(-0.02, 0.02);
  std::uniform_int_distribution<int> atoms(1, static_cast<int>(max_atoms)), grid(0, 3), element(0, 3);
  const int palette[] = {3, 8, 11, 17};
  std::vector<Structure> out;
  for (int64_t i = 0; i < n; ++i) {
    Structure s;
    const double a = length(gen);
    s.lattice = data::lattice_from_parameters({a, a * 1.05, a * 0.95, angle(gen), angle(gen), angle(gen)});
    const int count = atoms(gen);
    for (int j = 0; j < count; ++j) {
      s.species.push_back(palette[element(gen)]);
      s.frac.push_back(data::wrap_unit(Vec3{grid(gen) / 4.0 + noise(gen), grid(gen) / 4.0 + noise(gen), grid(gen) / 4.0 + noise(gen)}));
    }
    s.name = "g" + std::to_string(i);
    out.push_back(s);
  }
  return out;
}

CrystalVaeOptions small(int64_t max_atoms = 4) {
  CrystalVaeOptions o;
  o.max_atoms = max_atoms;
  o.latent_dim = 3;
  o.hidden = {16};
  o.species_embedding = 4;
  o.harmonics = 2;
  return o;
}

Batch batch_of(const std::vector<Structure>& s, int64_t max_atoms, torch::Dtype dtype = torch::kFloat) {
  Batch b;
  b.x = data::crystal_rows(s, max_atoms, dtype);
  return b;
}

double elbo(CrystalVae& model, const Batch& batch, int64_t particles, uint64_t seed) {
  torch::manual_seed(seed);
  const Trace t = model->forward(batch, particles);
  return (t.log_likelihood() - t.kl()).mean().item<double>();
}

/// The three coordinate decoders: independent, autoregressive, autoregressive with a mixture on a 3^3 grid per
/// atom; and the last with the lattice decoded given the count.
const std::vector<std::string> kDecoders{"independent", "autoregressive", "mixture", "mixture, lattice given count"};

void set_decoder(CrystalVaeOptions& o, const std::string& decoder) {
  o.coordinate_decoder = decoder == "independent" ? "independent" : "autoregressive";
  o.coordinate_grid = decoder.rfind("mixture", 0) == 0 ? 3 : 1;
  o.lattice_given_count = decoder == "mixture, lattice given count";
}

TEST(CrystalVae, TraceHasTheFourSitesAndExactMasks) {
  for (const std::string& decoder : kDecoders) {
  SCOPED_TRACE(decoder);
  torch::manual_seed(1);
  const int64_t n = 4;
  CrystalVaeOptions o = small(n);
  set_decoder(o, decoder);
  CrystalVae model(o);
  const Batch batch = batch_of(generated(6, n, 2), n);
  torch::manual_seed(3);
  const Trace t = model->forward(batch, 2);
  for (const char* name : {"lattice", "count", "species", "coords"}) {
    const Site* s = t.find(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->kind, SiteKind::observed);
    EXPECT_EQ(s->log_p.sizes(), (std::vector<int64_t>{2, 6})) << name;
    EXPECT_TRUE(torch::isfinite(s->log_p).all().item<bool>()) << name;
  }
  EXPECT_EQ(t.latents().size(), 1u);
  // Whatever the padding holds is never scored.
  Batch changed = batch;
  changed.x = batch.x.clone();
  const data::CrystalBatch c = data::crystal_batch(batch.x, n);
  const data::CrystalRowLayout layout{n};
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = c.count[i].item<int64_t>(); j < n; ++j) {
      changed.x[i][layout.species + j] = 26;
      for (int k = 0; k < 3; ++k) changed.x[i][layout.frac() + 3 * j + k] = 0.7;
    }
  torch::manual_seed(3);
  const Trace u = model->forward(changed, 2);
  for (const char* name : {"lattice", "count", "species", "coords"})
    EXPECT_TRUE(torch::allclose(t.find(name)->log_p, u.find(name)->log_p, 1e-6, 1e-6)) << name;
  }
}

TEST(CrystalVae, EncoderIsInvariantToTheOrderOfTheAtoms) {
  torch::manual_seed(4);
  const int64_t n = 5;
  CrystalVae model(small(n));
  model->to(torch::kDouble);
  const Batch batch = batch_of(generated(8, n, 5), n, torch::kDouble);
  Batch permuted = batch;
  permuted.x = batch.x.clone();
  const data::CrystalRowLayout layout{n};
  const data::CrystalBatch c = data::crystal_batch(batch.x, n);
  for (int64_t i = 0; i < 8; ++i) {  // reverse the atoms of each row
    const int64_t count = c.count[i].item<int64_t>();
    for (int64_t j = 0; j < count; ++j) {
      permuted.x[i][layout.species + j] = batch.x[i][layout.species + count - 1 - j];
      for (int k = 0; k < 3; ++k)
        permuted.x[i][layout.frac() + 3 * j + k] = batch.x[i][layout.frac() + 3 * (count - 1 - j) + k];
    }
  }
  ASSERT_FALSE(torch::equal(permuted.x, batch.x));
  const auto a = model->posterior(batch)->parameters(), b = model->posterior(permuted)->parameters();
  EXPECT_TRUE(torch::allclose(a[0], b[0], 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(a[1], b[1], 1e-12, 1e-12));
}

TEST(CrystalVae, ElboGradientMatchesFiniteDifferences) {
  for (const std::string coords : {"wrapped_normal", "gaussian", "autoregressive", "mixture", "mixture, lattice given count"}) {
    torch::manual_seed(6);
    const int64_t n = 3;
    CrystalVaeOptions o = small(n);
    o.coordinate_likelihood = coords == "gaussian" ? "gaussian" : "wrapped_normal";
    const bool autoregressive = coords != "wrapped_normal" && coords != "gaussian";
    if (autoregressive) {
      set_decoder(o, coords);
      o.hidden = {16, 8};
    }
    CrystalVae model(o);
    model->to(torch::kDouble);
    const Batch batch = batch_of(generated(4, n, 7), n, torch::kDouble);
    // A few entries of the encoder's and the decoder's last biases and the element embedding (and the
    // autoregressive layers' weights).
    const auto named = model->named_parameters();
    std::vector<std::string> names{"rho.layer1.bias", "decoder.layer1.bias", "embedding.weight", "phi.layer0.weight"};
    if (autoregressive)
      for (const char* name : {"atom_previous", "atom_slot", "atom_code.weight", "atom_net.layer0.weight"}) names.push_back(name);
    if (o.lattice_given_count) names.push_back("lattice_count");
    for (const std::string& name : names) {
      ASSERT_TRUE(named.contains(name)) << name;
      torch::Tensor p = named[name];
      const torch::Tensor flat = p.view(-1);
      const int64_t m = std::min<int64_t>(flat.numel(), 12);
      const torch::Tensor picks = torch::linspace(0, static_cast<double>(flat.numel() - 1), m).round().to(torch::kLong);
      model->zero_grad();
      torch::manual_seed(8);
      const Trace t = model->forward(batch, 2);
      (t.log_likelihood() - t.kl()).mean().backward();
      const torch::Tensor ad = p.grad().view(-1).index_select(0, picks).clone();
      torch::Tensor fd = torch::zeros({m}, torch::kDouble);
      for (int64_t k = 0; k < m; ++k) {
        const int64_t at = picks[k].item<int64_t>();
        const double h = 1e-6, x0 = flat[at].item<double>();
        double v[2];
        for (int side = 0; side < 2; ++side) {
          {
            torch::NoGradGuard no_grad;
            flat[at] = x0 + (side ? -h : h);
          }
          torch::NoGradGuard no_grad;
          v[side] = elbo(model, batch, 2, 8);
        }
        {
          torch::NoGradGuard no_grad;
          flat[at] = x0;
        }
        fd[k] = (v[0] - v[1]) / (2 * h);
      }
      EXPECT_TRUE(torch::allclose(ad, fd, 1e-5, 1e-6)) << coords << " " << name << "\nautograd " << ad << "\nfd " << fd;
    }
  }
}

TEST(CrystalVae, TrainingImprovesTheElbo) {
  torch::manual_seed(10);
  const int64_t n = 4;
  CrystalVaeOptions o = small(n);
  o.hidden = {32};
  o.origin_shift = false;
  CrystalVae model(o);
  const Batch train = batch_of(generated(48, n, 11), n);
  const Batch held = batch_of(generated(48, n, 12), n);
  model->eval();
  const double before = elbo(model, held, 4, 13), train_before = elbo(model, train, 4, 13);
  model->train();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(3e-3));
  for (int step = 0; step < 300; ++step) {
    adam.zero_grad();
    const Trace t = model->forward(train, 1);
    (-(t.log_likelihood() - t.kl()).mean()).backward();
    adam.step();
  }
  model->eval();
  const double after = elbo(model, held, 4, 13), train_after = elbo(model, train, 4, 13);
  // Every structure is scored in nats; the untrained decoder is far off (count, 98 elements, lattice).
  EXPECT_GT(train_after, train_before + 20) << train_before << " -> " << train_after;
  EXPECT_GT(after, before + 5) << before << " -> " << after;
}

TEST(CrystalVae, SamplesAreValidStructures) {
  for (const std::string& decoder : kDecoders) {
  SCOPED_TRACE(decoder);
  torch::manual_seed(14);
  const int64_t n = 6;
  CrystalVaeOptions o = small(n);
  set_decoder(o, decoder);
  CrystalVae model(o);
  torch::NoGradGuard no_grad;
  for (double spread : {1.0, 100.0}) {  // codes far out drive the decoder to extreme outputs
    const torch::Tensor z = model->sample_prior(200) * spread;
    const torch::Tensor rows = model->likelihood(z)->sample();
    ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{200, 7 + 4 * n}));
    const data::CrystalBatch c = data::crystal_batch(rows.to(torch::kDouble), n);
    EXPECT_GE(c.count.min().item<int64_t>(), 1);
    EXPECT_LE(c.count.max().item<int64_t>(), n);
    const std::vector<Structure> s = data::row_structures(rows, n, "sample");  // refuses species outside 1..98
    for (const Structure& x : s) {
      EXPECT_GT(data::determinant(x.lattice), 0.0) << x.name;
      for (const Vec3& f : x.frac)
        for (double v : f) {
          EXPECT_GE(v, 0.0);
          EXPECT_LT(v, 1.0);
        }
    }
  }
  // The mean decodes to a row too (most probable count and species).
  const torch::Tensor mean = model->likelihood(model->sample_prior(5))->mean();
  EXPECT_EQ(data::row_structures(mean, n).size(), 5u);
  }
}

// With the lattice given the count, p(v, n | z) = p(n | z) N(v; m(z, n), s(z, n)^2): the trace scores the lattice at
// the row's own count and the count by p(n | z), and likelihood(z) is the same density (one block of 7, the count
// drawn first); the location's three lengths move by exactly (log n' - log n) / 3 between counts while the learned
// offsets are zero (up to the bounds' curvature), so the decoded volume is n times what z says; draws and the greedy decoding
// put the lattice where its count says.
TEST(CrystalVae, LatticeGivenCountScalesTheCellWithItsAtoms) {
  torch::manual_seed(23);
  const int64_t n = 6;
  CrystalVaeOptions o = small(n);
  set_decoder(o, "mixture, lattice given count");
  CrystalVae model(o);
  model->to(torch::kDouble);
  model->eval();
  torch::NoGradGuard no_grad;
  const Batch batch = batch_of(generated(5, n, 24), n, torch::kDouble);
  torch::manual_seed(25);
  const Trace t = model->forward(batch, 1);
  const torch::Tensor z = t.find("z")->value;  // [1, 5, D]
  const auto joint = std::dynamic_pointer_cast<dist::Joint>(model->likelihood(z));
  ASSERT_NE(joint, nullptr);
  ASSERT_EQ(joint->parts().size(), 3u);
  const auto* lgc = dynamic_cast<const LatticeGivenCount*>(joint->parts()[0].get());
  ASSERT_NE(lgc, nullptr);
  EXPECT_EQ(lgc->sample_shape(), (std::vector<int64_t>{1, 5, 7}));
  // The block's log-density is the trace's lattice and count sites.
  const torch::Tensor block = lgc->log_prob_elements(batch.x.narrow(1, 0, 7)).sum(-1);
  EXPECT_TRUE(torch::allclose(block, t.find("lattice")->log_p + t.find("count")->log_p, 1e-10, 1e-10));
  // Lengths shift by log(n) / 3: the volume exp(v1 + v2 + v3) of the location is n times that at n = 1.
  const torch::Tensor one = torch::ones({1, 5, 1}, torch::kDouble);
  const torch::Tensor at_one = lgc->lattice(one)->mean();
  for (int64_t count = 2; count <= n; ++count) {
    const torch::Tensor at_n = lgc->lattice(one * static_cast<double>(count))->mean();
    const torch::Tensor log_ratio = (at_n - at_one).narrow(-1, 0, 3).sum(-1);
    // (tanh's bound bends the shift by a little: 0.6 -> 0.597 at n = 6)
    EXPECT_TRUE(torch::allclose(log_ratio, torch::full_like(log_ratio, std::log(double(count))), 2e-2, 0)) << count;
    EXPECT_TRUE(torch::allclose(at_n.narrow(-1, 3, 3), at_one.narrow(-1, 3, 3), 1e-12, 1e-12)) << count;
  }
  // A draw's lattice is scored at its drawn count: its six features' density is p(v | z, n) at that n.
  torch::manual_seed(26);
  const torch::Tensor draws = lgc->sample(300);  // [300, 1, 5, 7]
  ASSERT_EQ(draws.sizes(), (std::vector<int64_t>{300, 1, 5, 7}));
  const torch::Tensor counts = draws.select(-1, 6);
  EXPECT_GE(counts.min().item<double>(), 1.0);
  EXPECT_LE(counts.max().item<double>(), double(n));
  EXPECT_TRUE(torch::equal(counts, counts.round()));
  // Given n, the draws' standardized lengths are N(0, 1): mean and spread over the 300 draws.
  const auto given = lgc->lattice(draws.narrow(-1, 6, 1));
  const auto* normal = dynamic_cast<const dist::Normal*>(given.get());
  ASSERT_NE(normal, nullptr);
  const torch::Tensor standard = (draws.narrow(-1, 0, 6) - normal->loc()) / normal->log_scale().exp();
  EXPECT_LT(standard.mean().abs().item<double>(), 0.05);
  EXPECT_NEAR(standard.std().item<double>(), 1.0, 0.05);
  // The greedy decoding: the most probable count, the lattice's location given it.
  const torch::Tensor mean = lgc->mean();
  const auto* count = dynamic_cast<const dist::Categorical*>(lgc->count().get());
  ASSERT_NE(count, nullptr);
  const torch::Tensor mode = count->logits().argmax(-1).to(torch::kDouble);
  EXPECT_TRUE(torch::equal(mean.narrow(-1, 6, 1), mode));
  EXPECT_TRUE(torch::allclose(mean.narrow(-1, 0, 6), lgc->lattice(mode)->mean()));
  // The learned offsets of count n move only the rows of that count.
  const auto named = model->named_parameters();
  ASSERT_TRUE(named.contains("lattice_count"));
  named["lattice_count"][2].fill_(0.5);
  const torch::Tensor after = lgc->log_prob_elements(batch.x.narrow(1, 0, 7)).sum(-1);
  const data::CrystalBatch c = data::crystal_batch(batch.x, n);
  for (int64_t i = 0; i < 5; ++i) {
    const bool three = c.count[i].item<int64_t>() == 3;
    EXPECT_EQ(after[0][i].item<double>() != block[0][i].item<double>(), three) << i;
  }
}

/// The coordinates' distribution of an autoregressive crystal VAE at codes z.
std::shared_ptr<dist::Distribution> coordinates(CrystalVae& model, const torch::Tensor& z) {
  return model->decode(z).coords;
}

// Atom i's factor reads atoms j < i only: moving atom j changes the log-density of atoms after it, never of
// atom j or those before; the greedy decoding is the fixed point of that rule (each atom at the mode frac(mu)
// of its factor given the decoded atoms before it); k particles of a draw are [k, B, 3N] on [0, 1).
// With a grid mixture per atom (G = 3) the same holds for the dependence; its greedy decoding takes the most
// probable component's mode, which need not be the mixture's, so the mode check is for G = 1.
TEST(CrystalVae, AutoregressiveCoordinatesReadOnlyTheAtomsBefore) {
  for (const int64_t components : {1, 3}) {
  SCOPED_TRACE(components);
  torch::manual_seed(17);
  const int64_t n = 5;
  CrystalVaeOptions o = small(n);
  o.coordinate_decoder = "autoregressive";
  o.coordinate_grid = components;
  o.hidden = {16, 16};
  CrystalVae model(o);
  model->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = torch::randn({3, o.latent_dim}, torch::kDouble);
  const auto p = coordinates(model, z);
  const torch::Tensor x = torch::rand({3, 3 * n}, torch::kDouble);
  const torch::Tensor base = p->log_prob_elements(x);
  ASSERT_EQ(base.sizes(), (std::vector<int64_t>{3, 3 * n}));
  for (int64_t j = 0; j < n; ++j) {
    torch::Tensor moved = x.clone();
    moved.narrow(1, 3 * j, 3).add_(0.37);
    moved = moved - moved.floor();
    const torch::Tensor changed = (p->log_prob_elements(moved) - base).abs().view({3, n, 3}).amax({0, 2});
    for (int64_t i = 0; i < n; ++i) {
      if (i < j) EXPECT_EQ(changed[i].item<double>(), 0.0) << "atom " << i << " moved " << j;
      if (i > j) EXPECT_GT(changed[i].item<double>(), 1e-6) << "atom " << i << " moved " << j;
    }
  }
  const torch::Tensor greedy = p->mean();
  const auto* ar = dynamic_cast<const AutoregressiveCoordinates*>(p.get());
  ASSERT_NE(ar, nullptr);
  EXPECT_EQ(ar->atoms(), n);
  // At the greedy decoding each atom sits at the mode of its own factor given the decoded atoms before it (which
  // its move does not change): moving it either way along any axis lowers that factor's log-density.
  const torch::Tensor at_mode = p->log_prob_elements(greedy);
  for (double step : {0.01, -0.01}) {
    if (components > 1) break;
    torch::Tensor moved = greedy + step;
    moved = moved - moved.floor();
    for (int64_t i = 0; i < n; ++i) {
      torch::Tensor one = greedy.clone();
      one.narrow(1, 3 * i, 3).copy_(moved.narrow(1, 3 * i, 3));
      const torch::Tensor drop = at_mode.narrow(1, 3 * i, 3) - p->log_prob_elements(one).narrow(1, 3 * i, 3);
      EXPECT_GT(drop.min().item<double>(), 0.0) << "atom " << i << " step " << step;
    }
  }
  const torch::Tensor draws = p->sample(4);
  ASSERT_EQ(draws.sizes(), (std::vector<int64_t>{4, 3, 3 * n}));
  EXPECT_GE(draws.min().item<double>(), 0.0);
  EXPECT_LT(draws.max().item<double>(), 1.0);
  // The log-density of the draws is finite and the draws of different particles differ.
  EXPECT_TRUE(torch::isfinite(p->log_prob(draws)).all().item<bool>());
  EXPECT_FALSE(torch::equal(draws[0], draws[1]));
  }
}

// o_ig = sum_{j<i} exp(-|d|^2 / (2 b_i^2)) over the minimum-image displacement d of place g of atom i from atom j,
// against a loop over places and atoms; atoms j >= i never count.
TEST(CrystalVae, OccupiedGridCountsTheEarlierAtomsNearEachPlace) {
  torch::manual_seed(21);
  const int64_t n = 4, g = 3;
  const torch::Tensor mu = torch::rand({2, n, 3}, torch::kDouble) * 3 - 1;
  const torch::Tensor f = torch::rand({2, 3 * n}, torch::kDouble);
  const torch::Tensor width = torch::tensor({{0.05, 0.1, 0.2, 0.3}, {0.4, 0.15, 0.08, 0.5}}, torch::kDouble);
  const torch::Tensor o = occupied_grid(mu, g, f, width);
  ASSERT_EQ(o.sizes(), (std::vector<int64_t>{2, n, g, g, g}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < g * g * g; ++p) {
        const int64_t place[3] = {p / (g * g), (p / g) % g, p % g};
        double expected = 0;
        for (int64_t j = 0; j < i; ++j) {
          double square = 0;
          for (int k = 0; k < 3; ++k) {
            double d = mu[b][i][k].item<double>() + place[k] / double(g) - f[b][3 * j + k].item<double>();
            d -= std::round(d);
            square += d * d;
          }
          const double w = width[b][i].item<double>();
          expected += std::exp(-square / (2 * w * w));
        }
        EXPECT_NEAR(o[b][i][place[0]][place[1]][place[2]].item<double>(), expected, 1e-12) << b << " " << i << " " << p;
      }
  EXPECT_EQ(o.select(1, 0).abs().max().item<double>(), 0.0);  // the first atom has no atoms before it
}

TEST(CrystalVae, RefusesMixturesItCannotDecode) {
  CrystalVaeOptions o = small(3);
  o.coordinate_decoder = "autoregressive";
  o.coordinate_grid = 0;
  test::expect_invalid_argument([&] { CrystalVae model(o); }, {"model.coordinate_grid must be >= 1 (got 0)"});
  o.coordinate_grid = 2;
  o.coordinate_decoder = "independent";
  test::expect_invalid_argument([&] { CrystalVae model(o); },
                                {"model.coordinate_grid = 2", "model.coordinate_decoder = \"autoregressive\""});
  o.coordinate_decoder = "autoregressive";
  o.coordinate_likelihood = "gaussian";
  test::expect_invalid_argument([&] { CrystalVae model(o); }, {"model.coordinate_likelihood = \"wrapped_normal\""});
}

TEST(CrystalVae, OriginShiftsOnlyWhileTraining) {
  torch::manual_seed(15);
  const int64_t n = 4;
  CrystalVaeOptions o = small(n);
  o.origin_shift = true;
  CrystalVae model(o);
  const Batch batch = batch_of(generated(5, n, 16), n);
  model->train();
  const Trace t = model->forward(batch, 1);
  EXPECT_FALSE(torch::equal(t.find("coords")->value, batch.x.narrow(1, data::CrystalRowLayout{n}.frac(), 3 * n)));
  EXPECT_TRUE(torch::equal(t.find("lattice")->value, batch.x.narrow(1, 0, 6)));
  model->eval();
  const Trace e = model->forward(batch, 1);
  EXPECT_TRUE(torch::equal(e.find("coords")->value, batch.x.narrow(1, data::CrystalRowLayout{n}.frac(), 3 * n)));
}

}  // namespace
}  // namespace elbo::model
