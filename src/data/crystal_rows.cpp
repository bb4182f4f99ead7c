#include "elbo/data/crystal_rows.h"

#include "elbo/core/check.h"
#include "elbo/data/lattice_map.h"

namespace elbo::data {
namespace {

void check_rows(const torch::Tensor& rows, int64_t max_atoms, const char* who) {
  const CrystalRowLayout layout{max_atoms};
  ELBO_CHECK(max_atoms >= 1, who, ": max_atoms must be >= 1 (got ", max_atoms, ")");
  ELBO_CHECK(rows.dim() == 2 && rows.size(1) == layout.width() && rows.is_floating_point(), who,
             ": expected float crystal rows [B, ", layout.width(), "] (7 + 4 x data.max_atoms = ", max_atoms,
             "), got ", rows.sizes(), " ", rows.scalar_type());
}

}  // namespace

torch::Tensor crystal_rows(const std::vector<Structure>& structures, int64_t max_atoms, torch::Dtype dtype) {
  ELBO_CHECK(max_atoms >= 1, "elbo::data::crystal_rows: max_atoms must be >= 1 (got ", max_atoms, ")");
  std::vector<Structure> ordered;
  ordered.reserve(structures.size());
  for (const Structure& s : structures) ordered.push_back(canonical(right_handed(s)));
  const CrystalBatch b = pad_structures(ordered, max_atoms, torch::kDouble);  // refuses too many atoms
  std::vector<double> features;
  features.reserve(6 * ordered.size());
  for (const Structure& s : ordered) {
    LatticeFeatures v;
    try {
      v = lattice_features(s.lattice);
    } catch (const std::invalid_argument& e) {
      ELBO_CHECK(false, s.source.empty() ? s.name : s.source, ": ", e.what());
    }
    features.insert(features.end(), v.begin(), v.end());
  }
  const int64_t n = static_cast<int64_t>(ordered.size());
  const torch::Tensor v = torch::tensor(features, torch::kDouble).view({n, 6});
  torch::Tensor rows = torch::cat({v, b.count.to(torch::kDouble).unsqueeze(1), b.species.to(torch::kDouble),
                                   b.frac.reshape({n, 3 * max_atoms})},
                                  1)
                           .to(dtype);
  // A coordinate just below 1 may round up to 1 in float32: it is 0 on the circle.
  const CrystalRowLayout layout{max_atoms};
  torch::Tensor frac = rows.narrow(1, layout.frac(), 3 * max_atoms);
  frac.masked_fill_(frac >= 1.0, 0.0);
  return rows.contiguous();
}

Dataset crystal_dataset(const std::vector<Structure>& structures, int64_t max_atoms, const std::string& name) {
  ELBO_CHECK(!structures.empty(), name, ": no crystal structures");
  Dataset d;
  d.x = crystal_rows(structures, max_atoms, torch::kFloat32);
  d.name = name;
  return d;
}

CrystalBatch crystal_batch(const torch::Tensor& rows, int64_t max_atoms) {
  check_rows(rows, max_atoms, "elbo::data::crystal_batch");
  const CrystalRowLayout layout{max_atoms};
  const int64_t b = rows.size(0);
  CrystalBatch out;
  out.lattice = lattice_from_features(rows.narrow(1, layout.lattice, 6));
  out.parameters = lattice_parameters(out.lattice);
  out.count = rows.select(1, layout.count).round().to(torch::kLong);
  if (b > 0) {
    const int64_t lo = out.count.min().item<int64_t>(), hi = out.count.max().item<int64_t>();
    ELBO_CHECK(lo >= 1 && hi <= max_atoms, "elbo::data::crystal_batch: atom counts must lie in 1..", max_atoms,
               " (got ", lo < 1 ? lo : hi, ")");
  }
  out.species = rows.narrow(1, layout.species, max_atoms).round().to(torch::kLong);
  out.frac = rows.narrow(1, layout.frac(), 3 * max_atoms).reshape({b, max_atoms, 3});
  out.mask = (torch::arange(max_atoms, rows.options().dtype(torch::kLong)).unsqueeze(0) < out.count.unsqueeze(1))
                 .to(rows.scalar_type());
  return out;
}

std::vector<Structure> row_structures(const torch::Tensor& rows, int64_t max_atoms, const std::string& prefix) {
  check_rows(rows, max_atoms, "elbo::data::row_structures");
  const CrystalRowLayout layout{max_atoms};
  const torch::Tensor r = rows.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto a = r.accessor<double, 2>();
  std::vector<Structure> out;
  for (int64_t i = 0; i < r.size(0); ++i) {
    Structure s;
    s.name = prefix + std::to_string(i + 1);
    s.source = s.name;
    LatticeFeatures v;
    for (int k = 0; k < 6; ++k) v[k] = a[i][layout.lattice + k];
    s.lattice = lattice_from_features(v);
    const int64_t n = std::llround(a[i][layout.count]);
    ELBO_CHECK(n >= 1 && n <= max_atoms, "elbo::data::row_structures: row ", i + 1, " has ", a[i][layout.count],
               " atoms; expected 1..", max_atoms);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t z = std::llround(a[i][layout.species + j]);
      ELBO_CHECK(z >= 1 && z <= 98, "elbo::data::row_structures: row ", i + 1, ", atom ", j + 1, " has atomic number ",
                 a[i][layout.species + j], "; expected 1..98");
      s.species.push_back(static_cast<int>(z));
      const int64_t f = layout.frac() + 3 * j;
      s.frac.push_back(wrap_unit(Vec3{a[i][f], a[i][f + 1], a[i][f + 2]}));
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Structure> row_structures(const Config& config, const torch::Tensor& rows, const std::string& prefix) {
  return row_structures(rows, config.get_int("data.max_atoms"), prefix);
}

torch::Tensor shift_rows(const torch::Tensor& rows, const torch::Tensor& shift, int64_t max_atoms) {
  check_rows(rows, max_atoms, "elbo::data::shift_rows");
  const CrystalRowLayout layout{max_atoms};
  const int64_t b = rows.size(0);
  const CrystalBatch batch = crystal_batch(rows, max_atoms);
  const torch::Tensor atom = batch.mask > 0;  // [B, N]
  torch::Tensor frac = shift_coordinates(batch.frac, shift);
  frac = torch::where(atom.unsqueeze(-1), frac, torch::zeros_like(frac));
  // Canonical order by stable sorts from the least significant key: z, y, x, then the species
  // (padding sorts last as 99: past every element, so the atoms stay first).
  torch::Tensor order = torch::arange(max_atoms, rows.options().dtype(torch::kLong)).expand({b, max_atoms}).contiguous();
  torch::Tensor species = torch::where(atom, batch.species, torch::full_like(batch.species, 99)).to(rows.scalar_type());
  const auto resort = [&](const torch::Tensor& key) {
    const torch::Tensor k = key.gather(1, order);
    const torch::Tensor idx = std::get<1>(torch::sort(k, /*stable=*/true, /*dim=*/1, /*descending=*/false));
    order = order.gather(1, idx);
  };
  for (int axis = 2; axis >= 0; --axis) resort(frac.select(2, axis));
  resort(species);
  const torch::Tensor sorted_species = batch.species.gather(1, order).to(rows.scalar_type());
  const torch::Tensor sorted_frac = frac.gather(1, order.unsqueeze(-1).expand({b, max_atoms, 3}));
  return torch::cat({rows.narrow(1, 0, layout.species), sorted_species, sorted_frac.reshape({b, 3 * max_atoms})}, 1);
}

}  // namespace elbo::data
