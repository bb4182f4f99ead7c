#include "elbo/run/crystals.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/cif.h"
#include "elbo/data/crystal_rows.h"
#include "elbo/run/run_directory.h"
#include "elbo/run/summaries.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace elbo::run {
namespace {

void require_crystals(const Config& config, const char* who) {
  ELBO_CHECK(config.get_string("model.type") == "crystal", who, ": the run is not a crystal run (model.type = \"",
             config.get_string("model.type"), "\")");
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

}  // namespace

CrystalCheck check_crystal(const data::Structure& s) {
  CrystalCheck c;
  c.name = s.name;
  c.formula = data::formula(s);
  c.atoms = s.size();
  c.volume = data::volume(s.lattice);
  c.volume_per_atom = c.atoms > 0 ? c.volume / static_cast<double>(c.atoms) : NAN;
  c.min_distance = 0;
  if (c.atoms > 0 && std::isfinite(c.volume) && c.volume > 0) {
    try {
      c.min_distance = data::min_interatomic_distance(s);
    } catch (const std::exception&) {  // a cell too degenerate to search: not a valid structure
      c.min_distance = 0;
    }
  }
  c.valid = c.min_distance > 0.5 && c.volume > 0.1 && std::isfinite(c.volume);
  return c;
}

std::string crystal_table_csv(const std::vector<CrystalCheck>& checks) {
  std::ostringstream out;
  out << "name,formula,atoms,volume,volume_per_atom,min_distance,valid\n" << std::setprecision(8);
  for (const CrystalCheck& c : checks)
    out << c.name << "," << c.formula << "," << c.atoms << "," << c.volume << "," << c.volume_per_atom << ","
        << c.min_distance << "," << (c.valid ? 1 : 0) << "\n";
  return out.str();
}

torch::Tensor crystal_property(const std::string& property, const torch::Tensor& rows, int64_t max_atoms) {
  ELBO_CHECK(property == "volume_per_atom" || property == "number_density" || property == "mass_density", "'", property,
             "' is not a property of a crystal run; valid: volume_per_atom (A^3 per atom), number_density (atoms per "
             "nm^3), mass_density (g/cm^3)");
  if (!rows.defined()) return {};
  const std::vector<data::Structure> s = data::row_structures(rows, max_atoms);
  std::vector<double> values;
  for (const data::Structure& x : s) {
    const double per_atom = data::volume(x.lattice) / static_cast<double>(x.size());
    values.push_back(property == "volume_per_atom"  ? per_atom
                     : property == "number_density" ? 1000.0 / per_atom
                                                    : data::mass_density(x));
  }
  return torch::tensor(values, torch::kDouble);
}

std::vector<data::Structure> sample_crystals(model::Model& model, const Config& config, int64_t n, uint64_t seed,
                                             bool most_probable) {
  require_crystals(config, "elbo sample");
  ELBO_CHECK(n > 0, "elbo sample: --n must be positive (got ", n, ")");
  torch::NoGradGuard no_grad;
  seed_stream(seed, RngStream::evaluation);
  const dist::DistributionPtr p = model.likelihood(model.sample_prior(n));
  const torch::Tensor rows = most_probable ? p->mean() : p->sample();
  return data::row_structures(config, rows, "sample");
}

ValidCrystalSamples sample_valid_crystals(model::Model& model, const Config& config, int64_t n, uint64_t seed,
                                          bool most_probable, int64_t max_draws) {
  require_crystals(config, "elbo sample");
  ELBO_CHECK(n > 0, "elbo sample: --n must be positive (got ", n, ")");
  if (max_draws <= 0) max_draws = 100 * n;
  torch::NoGradGuard no_grad;
  seed_stream(seed, RngStream::evaluation);
  ValidCrystalSamples out;
  while (static_cast<int64_t>(out.structures.size()) < n) {
    ELBO_CHECK(out.drawn < max_draws, "elbo sample --valid-only: ", out.structures.size(), " of ", out.drawn,
               " draws were valid, short of ", n, " after the limit of ", max_draws, " draws");
    const int64_t block = std::min<int64_t>(max_draws - out.drawn, std::max<int64_t>(64, n - static_cast<int64_t>(out.structures.size())));
    const dist::DistributionPtr p = model.likelihood(model.sample_prior(block));
    for (data::Structure& s : data::row_structures(config, most_probable ? p->mean() : p->sample(), "sample")) {
      ++out.drawn;
      if (!check_crystal(s).valid) continue;
      s.name = "sample" + std::to_string(out.structures.size() + 1);
      out.structures.push_back(std::move(s));
      if (static_cast<int64_t>(out.structures.size()) == n) break;
    }
  }
  return out;
}

CrystalReconstruction reconstruct_crystals(model::Model& model, const Config& config, const data::Dataset& data) {
  require_crystals(config, "elbo reconstruct");
  torch::NoGradGuard no_grad;
  const int64_t n = config.get_int("data.max_atoms");
  CrystalReconstruction r;
  r.examples = data.size();
  double coordinate_sum = 0, length_sum = 0, angle_sum = 0, chamfer_sum = 0;
  int64_t coordinate_atoms = 0;
  for (int64_t begin = 0; begin < data.size(); begin += 256) {
    const data::Batch batch = data.slice(begin, std::min(data.size(), begin + 256));
    const torch::Tensor rows = model.likelihood(model.posterior(batch)->mean())->mean();
    const std::vector<data::Structure> inputs = data::row_structures(batch.x, n, "input");
    std::vector<data::Structure> outputs = data::row_structures(rows, n, "reconstruction");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const data::Structure& in = inputs[i];
      data::Structure& out = outputs[i];
      out.name = "reconstruction" + std::to_string(begin + static_cast<int64_t>(i) + 1);
      const data::LatticeParameters p = data::lattice_parameters(in.lattice), q = data::lattice_parameters(out.lattice);
      length_sum += (std::abs(q.a - p.a) / p.a + std::abs(q.b - p.b) / p.b + std::abs(q.c - p.c) / p.c) / 3;
      angle_sum += (std::abs(q.alpha - p.alpha) + std::abs(q.beta - p.beta) + std::abs(q.gamma - p.gamma)) / 3;
      {
        const data::MinimumImage image(in.lattice);
        const auto one_way = [&](const data::Structure& from, const data::Structure& to) {
          double sum = 0;
          for (const data::Vec3& f : from.frac) {
            double best = INFINITY;
            for (const data::Vec3& g : to.frac) best = std::min(best, image.distance({g[0] - f[0], g[1] - f[1], g[2] - f[2]}));
            sum += best;
          }
          return sum / static_cast<double>(from.size());
        };
        chamfer_sum += (one_way(in, out) + one_way(out, in)) / 2;
      }
      if (out.size() != in.size()) continue;
      ++r.count_matches;
      if (out.species != in.species) continue;
      ++r.species_matches;
      const data::MinimumImage image(in.lattice);
      for (int64_t j = 0; j < in.size(); ++j) {
        const data::Vec3 df{out.frac[j][0] - in.frac[j][0], out.frac[j][1] - in.frac[j][1], out.frac[j][2] - in.frac[j][2]};
        coordinate_sum += image.distance(df);
        ++coordinate_atoms;
      }
    }
    for (auto& s : outputs) r.structures.push_back(std::move(s));
  }
  r.coordinate_error = coordinate_atoms > 0 ? coordinate_sum / static_cast<double>(coordinate_atoms) : NAN;
  r.chamfer_error = r.examples > 0 ? chamfer_sum / static_cast<double>(r.examples) : NAN;
  r.length_error = r.examples > 0 ? length_sum / static_cast<double>(r.examples) : NAN;
  r.angle_error = r.examples > 0 ? angle_sum / static_cast<double>(r.examples) : NAN;
  return r;
}

std::vector<CrystalCheck> write_crystals(const std::vector<data::Structure>& structures, const std::string& dir,
                                         const std::string& table, bool poscar) {
  ensure_writable_dir(dir);
  std::vector<CrystalCheck> checks;
  for (const data::Structure& s : structures) {
    write_file_atomic(dir + "/" + s.name + ".cif", data::format_cif(s));
    if (poscar) write_file_atomic(dir + "/" + s.name + ".poscar", data::format_poscar(s));
    checks.push_back(check_crystal(s));
  }
  write_file_atomic(dir + "/" + table, crystal_table_csv(checks));
  return checks;
}

std::string crystal_summary(const std::vector<CrystalCheck>& checks) {
  int64_t valid = 0;
  std::vector<double> per_atom, distance;
  for (const CrystalCheck& c : checks) {
    valid += c.valid;
    per_atom.push_back(c.volume_per_atom);
    distance.push_back(c.min_distance);
  }
  const MeanSd v = mean_sd(torch::tensor(per_atom, torch::kDouble)), d = mean_sd(torch::tensor(distance, torch::kDouble));
  return "valid " + std::to_string(valid) + " / " + std::to_string(checks.size()) +
         " (every distance > 0.5 A, volume > 0.1 A^3); volume per atom " + fixed(v.mean, 2) + " ± " + fixed(v.sd, 2) +
         " A^3; minimum distance " + fixed(d.mean, 3) + " ± " + fixed(d.sd, 3) + " A";
}

}  // namespace elbo::run
