#include "elbo/model/crystal_vae.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "elbo/data/crystal_rows.h"
#include "elbo/dist/categorical.h"
#include "elbo/dist/joint.h"
#include "elbo/dist/wrapped_normal.h"
#include "elbo/model/crystal_coordinates.h"
#include "elbo/model/crystal_lattice.h"

#include <cmath>
#include <limits>

namespace elbo::model {
namespace {

constexpr int64_t kElements = 98;  // Z = 1..98 (data/elements.h)

/// logits [..., C] -> [..., C + 1] with class 0 (no atom; a cell of 0 atoms) impossible: logit -inf,
/// probability exactly 0 however low the others go (a masked padding slot's -inf stays out of the sum).
Tensor with_class_zero_impossible(const Tensor& logits) {
  auto shape = logits.sizes().vec();
  shape.back() = 1;
  return torch::cat({torch::full(shape, -std::numeric_limits<double>::infinity(), logits.options()), logits}, -1);
}

/// softplus(x) = log(1 + e^x), exact for large x.
Tensor soft_plus(const Tensor& x) { return torch::clamp_min(x, 0) + torch::log1p(torch::exp(-x.abs())); }

/// A scale's log from a raw output r, bounded smoothly on both sides: s = log lo + softplus(r - log lo),
/// log sigma = log hi - softplus(log hi - s), in (log lo, log hi) and close to r well inside. The upper
/// bound keeps every draw loc + sigma eps finite however far out z is.
Tensor bounded_log_scale(const Tensor& r, double lo, double hi) {
  const Tensor s = std::log(lo) + soft_plus(r - std::log(lo));
  return std::log(hi) - soft_plus(std::log(hi) - s);
}

/// `lead` with one more axis of `last` entries.
std::vector<int64_t> lead_with(std::vector<int64_t> lead, int64_t last) {
  lead.push_back(last);
  return lead;
}

/// A location bounded smoothly to centre +- half_width: centre + half_width tanh(r / half_width).
Tensor bounded(const Tensor& r, double centre, double half_width) { return centre + half_width * torch::tanh(r / half_width); }

}  // namespace

CrystalVaeOptions CrystalVaeOptions::from_config(const Config& c, const data::Schema& schema) {
  ELBO_CHECK(c.get_string("data.format") == "crystals", "model.type = \"crystal\" reads crystal structures: set "
             "data.format = \"crystals\" (got \"", c.get_string("data.format"), "\")");
  CrystalVaeOptions o;
  o.max_atoms = c.get_int("data.max_atoms");
  o.latent_dim = c.get_int("model.latent_dim");
  o.hidden = c.get_ints("model.hidden");
  o.species_embedding = c.get_int("model.species_embedding");
  o.harmonics = c.get_int("model.harmonics");
  o.images = c.get_int("model.images");
  o.coordinate_likelihood = c.get_string("model.coordinate_likelihood");
  o.coordinate_decoder = c.get_string("model.coordinate_decoder");
  o.coordinate_grid = c.get_int("model.coordinate_grid");
  o.lattice_given_count = c.get_bool("model.lattice_given_count");
  o.origin_shift = c.get_bool("data.origin_shift");
  o.activation = nn::parse_activation(c.get_string("model.activation"));
  o.prior_scale = c.get_double("model.prior_scale");
  const int64_t width = data::CrystalRowLayout{o.max_atoms}.width();
  ELBO_CHECK(schema.features() == width, "model.type = \"crystal\": the data have ", schema.features(),
             " values per example, data.max_atoms = ", o.max_atoms, " needs 7 + 4 x ", o.max_atoms, " = ", width);
  return o;
}

CrystalVaeImpl::CrystalVaeImpl(const CrystalVaeOptions& o) : options_(o) {
  ELBO_CHECK(o.max_atoms >= 1 && o.latent_dim >= 1 && o.species_embedding >= 1 && o.harmonics >= 1 && o.images >= 1,
             "elbo::model::CrystalVae: max_atoms, latent_dim, species_embedding, harmonics and images must be >= 1");
  ELBO_CHECK(o.coordinate_likelihood == "wrapped_normal" || o.coordinate_likelihood == "gaussian",
             "model.coordinate_likelihood must be \"wrapped_normal\" or \"gaussian\" (got \"", o.coordinate_likelihood,
             "\")");
  ELBO_CHECK(o.coordinate_decoder == "independent" || o.coordinate_decoder == "autoregressive",
             "model.coordinate_decoder must be \"independent\" or \"autoregressive\" (got \"", o.coordinate_decoder, "\")");
  ELBO_CHECK(o.coordinate_grid >= 1, "model.coordinate_grid must be >= 1 (got ", o.coordinate_grid, ")");
  ELBO_CHECK(o.coordinate_grid == 1 ||
                 (o.coordinate_decoder == "autoregressive" && o.coordinate_likelihood == "wrapped_normal"),
             "model.coordinate_grid = ", o.coordinate_grid, " (a mixture on a grid per atom) needs "
             "model.coordinate_decoder = \"autoregressive\" and model.coordinate_likelihood = \"wrapped_normal\"");
  ELBO_CHECK(o.prior_scale > 0, "model.prior_scale must be positive (got ", o.prior_scale, ")");
  const int64_t pooled = o.hidden.empty() ? 64 : o.hidden.back();
  embedding_ = register_module("embedding", torch::nn::Embedding(kElements + 1, o.species_embedding));
  phi_ = register_module("phi", nn::Mlp(nn::MlpOptions(o.species_embedding + 6 * o.harmonics, pooled)
                                            .hidden(o.hidden)
                                            .activation(o.activation)));
  rho_ = register_module("rho", nn::Mlp(nn::MlpOptions(2 * pooled + 8, 2 * o.latent_dim)
                                            .hidden(o.hidden)
                                            .activation(o.activation)));
  const int64_t n = o.max_atoms;
  const int64_t outputs = 12 + n + n * kElements + 6 * n;
  std::vector<int64_t> hidden(o.hidden.rbegin(), o.hidden.rend());
  decoder_ = register_module("decoder", nn::Mlp(nn::MlpOptions(o.latent_dim, outputs).hidden(hidden).activation(o.activation)));
  if (o.coordinate_decoder == "autoregressive") {
    const int64_t width = o.hidden.empty() ? 64 : o.hidden.front();
    const std::vector<int64_t> rest(o.hidden.size() > 1 ? o.hidden.begin() + 1 : o.hidden.end(), o.hidden.end());
    atom_code_ = register_module("atom_code", torch::nn::Linear(o.latent_dim, width));
    atom_slot_ = register_parameter("atom_slot", torch::zeros({n, width}));
    // W_j ~ U(+-1/sqrt(fan in)) over the N x 6H inputs of a dense masked layer.
    const double bound = 1.0 / std::sqrt(static_cast<double>(n * 6 * o.harmonics));
    atom_previous_ = register_parameter("atom_previous", torch::rand({n, 6 * o.harmonics, width}) * (2 * bound) - bound);
    // Per atom: three location and three log-scale corrections; with a grid (G > 1) also the G^3 places'
    // log-weights and the occupied-place penalty's kappa and width.
    const int64_t g = o.coordinate_grid, per_atom = g == 1 ? 6 : 8 + g * g * g;
    atom_net_ = register_module("atom_net", nn::Mlp(nn::MlpOptions(width, per_atom).hidden(rest).activation(o.activation)));
  }
  // Per count n = 1..N: offsets of the lattice's six locations and six raw log-scales (lattice_given_count).
  if (o.lattice_given_count) lattice_count_ = register_parameter("lattice_count", torch::zeros({n, 12}));
  prior_log_scale_ = register_buffer("prior_log_scale", torch::full({o.latent_dim}, std::log(o.prior_scale)));
}

int64_t CrystalVaeImpl::features() const { return data::CrystalRowLayout{options_.max_atoms}.width(); }

dist::Normal CrystalVaeImpl::prior() const {
  return dist::Normal(torch::zeros_like(prior_log_scale_), prior_log_scale_);
}

void CrystalVaeImpl::check_rows(const Tensor& x) const {
  ELBO_CHECK(x.dim() == 2 && x.size(1) == features(), "elbo::model::CrystalVae: expected crystal rows [B, ", features(),
             "] (data.max_atoms = ", options_.max_atoms, "), got ", x.sizes());
}

dist::DistributionPtr CrystalVaeImpl::posterior(const Batch& batch) {
  check_rows(batch.x);
  const int64_t n = options_.max_atoms, b = batch.x.size(0);
  const data::CrystalBatch c = data::crystal_batch(batch.x, n);
  const Tensor mask = c.mask.unsqueeze(-1);  // [B, N, 1]
  // Per atom: the element's embedding, sin and cos of 2 pi h f.
  const Tensor h = torch::arange(1, options_.harmonics + 1, batch.x.options());
  const Tensor angle = (2 * kPi) * c.frac.unsqueeze(-1) * h;  // [B, N, 3, H]
  const Tensor atoms = torch::cat({embedding_->forward(c.species.clamp(0, kElements)),
                                   torch::sin(angle).reshape({b, n, -1}), torch::cos(angle).reshape({b, n, -1})},
                                  -1);
  const Tensor phi = phi_->forward(atoms) * mask;  // padding slots add nothing
  const Tensor count = c.count.to(batch.x.scalar_type()).unsqueeze(1);  // [B, 1]
  const Tensor sum = phi.sum(1);
  const Tensor pooled = torch::cat({sum / count, sum / static_cast<double>(n), batch.x.narrow(1, 0, 6),
                                    count / static_cast<double>(n), count.log()},
                                   1);
  return std::make_shared<dist::Normal>(dist::posterior_from_raw(rho_->forward(pooled)));
}

CrystalVaeImpl::Decoded CrystalVaeImpl::decode(const Tensor& z) {
  ELBO_CHECK(z.dim() >= 1 && z.size(-1) == options_.latent_dim, "elbo::model::CrystalVae: expected codes [..., ",
             options_.latent_dim, "], got ", z.sizes());
  const int64_t n = options_.max_atoms;
  const Tensor raw = decoder_->forward(z);
  auto lead = z.sizes().vec();
  lead.pop_back();
  const auto shaped = [&](int64_t begin, int64_t width, std::vector<int64_t> tail) {
    std::vector<int64_t> shape = lead;
    shape.insert(shape.end(), tail.begin(), tail.end());
    return raw.narrow(-1, begin, width).reshape(shape);
  };
  int64_t at = 0;
  Decoded d;
  // The lattice features' locations within physical bounds (lengths' logs 2 +- 5: 0.05 A to 1100 A;
  // the shape ratios +- 10, angles down to ~6 degrees), scales in (1e-4, 2): every draw is finite, so
  // every decoded lattice exists (data/lattice_map.h).
  const Tensor lattice = shaped(at, 12, {12});
  at += 12;
  d.count = std::make_shared<dist::Categorical>(with_class_zero_impossible(shaped(at, n, {1, n})));
  at += n;
  if (options_.lattice_given_count)
    d.lattice = std::make_shared<LatticeGivenCount>(
        d.count, [this, lattice](const Tensor& count) { return lattice_given(lattice, count); });
  else
    d.lattice = lattice_given(lattice, Tensor());
  d.species = std::make_shared<dist::Categorical>(with_class_zero_impossible(shaped(at, n * kElements, {n, kElements})));
  at += n * kElements;
  // Location and scale of each coordinate, atom-major like the rows: [..., 3N] each; sigma in (1e-4, 2)
  // (a wrapped normal of scale 2 is uniform on the circle to 1e-30).
  const Tensor loc = shaped(at, 3 * n, {3 * n}), raw_scale = shaped(at + 3 * n, 3 * n, {3 * n});
  const bool wrapped = options_.coordinate_likelihood == "wrapped_normal";
  if (options_.coordinate_decoder == "autoregressive") {
    // The distribution calls back into this module (it must not outlive it, as no likelihood does).
    d.coords = std::make_shared<AutoregressiveCoordinates>(
        [this, z, loc, raw_scale](const Tensor& f) { return coordinates_given(z, loc, raw_scale, f); },
        lead_with(lead, 3 * n), wrapped, options_.images, options_.coordinate_grid);
    return d;
  }
  const Tensor log_scale = bounded_log_scale(raw_scale, 1e-4, 2.0);
  if (wrapped)
    d.coords = std::make_shared<dist::WrappedNormal>(loc, log_scale, options_.images);
  else
    d.coords = std::make_shared<dist::Normal>(loc, log_scale);
  return d;
}

dist::DistributionPtr CrystalVaeImpl::lattice_given(const Tensor& raw, const Tensor& count) const {
  Tensor r = raw;
  if (count.defined()) {
    // The count's row of offsets, and log(n) / 3 on each length's log: volume exp(v1 + v2 + v3) = n times
    // exp(the rest), so what z and the offsets say is the volume per atom.
    const int64_t n = options_.max_atoms;
    const Tensor index = count.to(torch::kLong).clamp(1, n) - 1;  // [..., 1]
    std::vector<int64_t> shape = index.sizes().vec();
    shape.back() = 12;
    const Tensor third_log_n = index.to(raw.scalar_type()).add(1).log() / 3.0;  // [..., 1]
    const Tensor per_length = torch::cat({torch::ones({3}, raw.options()), torch::zeros({9}, raw.options())});
    r = raw + lattice_count_.index_select(0, index.flatten()).reshape(shape) + third_log_n * per_length;
  }
  const Tensor lengths = bounded(r.narrow(-1, 0, 3), 2.0, 5.0), shape = bounded(r.narrow(-1, 3, 3), 0.0, 10.0);
  return std::make_shared<dist::Normal>(torch::cat({lengths, shape}, -1), bounded_log_scale(r.narrow(-1, 6, 6), 1e-4, 2.0));
}

AutoregressiveCoordinates::Factors CrystalVaeImpl::coordinates_given(const Tensor& z, const Tensor& loc,
                                                                     const Tensor& raw_scale, const Tensor& f_in) {
  const int64_t n = options_.max_atoms;
  ELBO_CHECK(f_in.dim() >= 1 && f_in.size(-1) == 3 * n, "elbo::model::CrystalVae: expected coordinates [..., ", 3 * n,
             "], got ", f_in.sizes());
  const Tensor f = f_in.to(z.options());
  const std::vector<int64_t> lead = at::infer_size(f.sizes().slice(0, f.dim() - 1), z.sizes().slice(0, z.dim() - 1));
  const std::vector<int64_t> atoms_shape = lead_with(lead_with(lead, n), 3);
  // phi(f_j) [..., N, 6H]: sin and cos of 2 pi h f, periodic in the cell.
  const Tensor h = torch::arange(1, options_.harmonics + 1, z.options());
  const Tensor angle = (2 * kPi) * f.expand(lead_with(lead, 3 * n)).reshape(atoms_shape).unsqueeze(-1) * h;
  const std::vector<int64_t> feature_shape = lead_with(lead_with(lead, n), 3 * options_.harmonics);
  const Tensor phi = torch::cat({torch::sin(angle).reshape(feature_shape), torch::cos(angle).reshape(feature_shape)}, -1);
  // sum_{j<i} W_j phi(f_j): each slot's projection, summed over the earlier slots (exclusive cumulative sum).
  const Tensor projected = torch::einsum("...jf,jfw->...jw", {phi, atom_previous_});  // [..., N, width]
  const Tensor earlier = torch::cat({torch::zeros_like(projected.narrow(-2, 0, 1)),
                                     projected.narrow(-2, 0, n - 1).cumsum(-2)}, -2);
  const Tensor hidden = nn::activate(atom_code_->forward(z).unsqueeze(-2) + atom_slot_ + earlier, options_.activation);
  const Tensor out = atom_net_->forward(hidden);  // [..., N, 6] (G = 1) or [..., N, 8 + G^3]
  const Tensor mu = loc.unflatten(-1, {n, 3}) + out.narrow(-1, 0, 3);  // [..., N, 3]
  const int64_t g = options_.coordinate_grid, places = g * g * g;
  // With a grid the scales start at about half its spacing, 1 / (2G), where the places are told apart (a
  // scale far above it makes every place the same near-uniform density, and their weights learn nothing).
  const double scale_start = g == 1 ? 0.0 : -std::log(2.0 * static_cast<double>(g));
  const Tensor log_sigma =
      bounded_log_scale(raw_scale.unflatten(-1, {n, 3}) + out.narrow(-1, 3, 3) + scale_start, 1e-4, 2.0);
  AutoregressiveCoordinates::Factors factors{torch::Tensor(), mu, log_sigma};
  if (g == 1) {
    factors.log_weights = torch::zeros(lead_with(lead_with(lead, n), 1), z.options());
    return factors;
  }
  // The G^3 places of atom i, mu_i + (a, b, c) / G, in the frame of the first atom: mu_i = f_1 + (the decoder's
  // location) for i > 1, so place g of atom i is "g / G from atom 1" whatever the origin (origin shifts move
  // both). Places on atoms already placed lose weight kappa_i o_ig (occupied_grid), width b_i in (0.005, 0.5).
  const Tensor after_first = torch::ones({n, 1}, z.options()).index_fill_(0, torch::zeros({1}, torch::kLong), 0.0);
  factors.loc = mu + f.narrow(-1, 0, 3).unsqueeze(-2) * after_first;
  const Tensor kappa = soft_plus(out.select(-1, 6 + places));
  const Tensor width = bounded_log_scale(out.select(-1, 7 + places) - 2.0, 0.005, 0.5).exp();
  factors.log_weights = out.narrow(-1, 6, places) -
                        kappa.unsqueeze(-1) * occupied_grid(factors.loc, g, f, width).flatten(-3);
  return factors;
}

dist::DistributionPtr CrystalVaeImpl::likelihood(const Tensor& z) {
  const int64_t n = options_.max_atoms;
  Decoded d = decode(z);
  if (options_.lattice_given_count)  // the lattice and the count one block, the count drawn first
    return std::make_shared<dist::Joint>(std::vector<dist::DistributionPtr>{d.lattice, d.species, d.coords},
                                         std::vector<int64_t>{7, n, 3 * n});
  return std::make_shared<dist::Joint>(std::vector<dist::DistributionPtr>{d.lattice, d.count, d.species, d.coords},
                                       std::vector<int64_t>{6, 1, n, 3 * n});
}

Tensor CrystalVaeImpl::sample_prior(int64_t n) {
  ELBO_CHECK(n > 0, "elbo::model::CrystalVae: sample count must be positive (got ", n, ")");
  return prior().sample(n);
}

Trace CrystalVaeImpl::forward(const Batch& batch, int64_t particles) {
  check_rows(batch.x);
  if (!(options_.origin_shift && is_training())) return forward_with(batch, posterior(batch), particles);
  Batch shifted = batch;
  {
    torch::NoGradGuard no_grad;  // data, not parameters
    shifted.x = data::shift_rows(batch.x, torch::rand({batch.x.size(0), 3}, batch.x.options()), options_.max_atoms);
  }
  return forward_with(shifted, posterior(shifted), particles);
}

Trace CrystalVaeImpl::forward_with(const Batch& batch, const dist::DistributionPtr& q, int64_t particles) {
  ELBO_CHECK(particles >= 1, "elbo::model::CrystalVae: particles must be >= 1 (got ", particles, ")");
  ELBO_CHECK(q && q->has_rsample(), "elbo::model::CrystalVae: an external posterior must be reparameterizable (got ",
             q ? q->name() : std::string("none"), ")");
  check_rows(batch.x);
  const auto shape = q->sample_shape();
  ELBO_CHECK(shape.size() == 2 && shape[0] == batch.x.size(0) && shape[1] == options_.latent_dim,
             "elbo::model::CrystalVae: an external posterior must be [B, ", options_.latent_dim, "] for rows ",
             batch.x.sizes(), ", got ", c10::IntArrayRef(shape));
  const int64_t n = options_.max_atoms;
  const data::CrystalRowLayout layout{n};
  const data::CrystalBatch c = data::crystal_batch(batch.x, n);
  Trace trace;
  trace.sites.push_back(sample_latent("z", q, prior(), particles));
  const Decoded d = decode(trace.sites.back().value);
  const Tensor& x = batch.x;
  // Given the count, the lattice is scored at the row's own count (p(v | z, n) of LatticeGivenCount).
  const dist::DistributionPtr lattice =
      options_.lattice_given_count
          ? static_cast<const LatticeGivenCount&>(*d.lattice).lattice(x.narrow(1, layout.count, 1))
          : d.lattice;
  trace.sites.push_back(observe("lattice", *lattice, x.narrow(1, layout.lattice, 6)));
  trace.sites.push_back(observe("count", *d.count, x.narrow(1, layout.count, 1)));
  trace.sites.push_back(observe("species", *d.species, x.narrow(1, layout.species, n), c.mask));
  trace.sites.push_back(observe("coords", *d.coords, x.narrow(1, layout.frac(), 3 * n),
                                c.mask.repeat_interleave(3, 1)));
  return trace;
}

std::string CrystalVaeImpl::describe() const {
  const CrystalVaeOptions& o = options_;
  return "crystal VAE: deep-sets encoder (hidden " + widths_text(o.hidden) + ", " + std::to_string(o.harmonics) +
         " harmonics), up to " + std::to_string(o.max_atoms) + " atoms, lattice by log-Cholesky features, " +
         (o.coordinate_likelihood == "wrapped_normal" ? "wrapped-normal (K = " + std::to_string(o.images) + ")"
                                                      : std::string("gaussian")) +
         " coordinates" + (o.lattice_given_count ? ", lattice given the count" : "") + (o.coordinate_decoder == "autoregressive" ? " decoded atom by atom" : "") +
         (o.coordinate_grid > 1 ? " (each a mixture on " + std::to_string(o.coordinate_grid) + "^3 places)" : "") +
         (o.origin_shift ? ", random origin shifts" : "") + ", " + Model::describe();
}

}  // namespace elbo::model
