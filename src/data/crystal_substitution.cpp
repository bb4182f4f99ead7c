#include "elbo/data/crystal_substitution.h"

#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/elements.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

namespace elbo::data {
namespace {

double radius_of(int z, const Structure& s) {
  const double r = element(z).radius;
  ELBO_CHECK(r > 0, "elbo::data::rescale_to_radii: ", element(z).symbol, " in ", s.name,
             " has no known radius (substitute it or leave the structure out)");
  return r;
}

/// contact_ratio from precomputed distances: the shortest lattice vector and the distance matrix.
double contact_ratio(const std::vector<int>& species, double self, const std::vector<double>& d,
                     const Structure& s) {
  const size_t n = species.size();
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const double ri = radius_of(species[i], s);
    best = std::min(best, self / (2 * ri));
    for (size_t j = i + 1; j < n; ++j) best = std::min(best, d[i * n + j] / (ri + radius_of(species[j], s)));
  }
  return best;
}

}  // namespace

std::vector<int> substitutes(int z, double radius_tolerance) {
  const Element& e = element(z);
  std::vector<int> out;
  if (e.radius <= 0 || e.oxidation_states.empty()) return out;
  for (int c = 1; c <= 83; ++c) {
    const Element& candidate = element(c);
    if (c == z || c == 43 || c == 61 || candidate.radius_source != RadiusSource::slater) continue;
    if (std::abs(candidate.radius - e.radius) > radius_tolerance * e.radius) continue;
    const bool shared = std::any_of(e.oxidation_states.begin(), e.oxidation_states.end(), [&](int state) {
      return std::count(candidate.oxidation_states.begin(), candidate.oxidation_states.end(), state) > 0;
    });
    if (shared) out.push_back(c);
  }
  return out;
}

double contact_ratio(const Structure& s) {
  ELBO_CHECK(!s.species.empty(), "elbo::data::contact_ratio: ", s.name, " has no atoms");
  return contact_ratio(s.species, shortest_lattice_vector(s.lattice), distance_matrix(s), s);
}

Structure rescale_to_radii(Structure s) {
  const double ratio = contact_ratio(s);
  ELBO_CHECK_NUMERIC(ratio > 0 && std::isfinite(ratio), "elbo::data::rescale_to_radii: ", s.name,
                     " has coinciding atoms (contact ratio ", ratio, ")");
  for (Vec3& row : s.lattice)
    for (double& v : row) v /= ratio;
  return s;
}

SubstitutionSet substitution_set(const std::vector<Structure>& prototypes, const SubstitutionOptions& options) {
  ELBO_CHECK(options.per_prototype >= 0 && options.attempts >= 0,
             "elbo::data::substitution_set: per_prototype and attempts must be non-negative");
  ELBO_CHECK(options.radius_tolerance >= 0, "elbo::data::substitution_set: radius_tolerance must be non-negative (got ",
             options.radius_tolerance, ")");
  SubstitutionSet set;
  for (size_t p = 0; p < prototypes.size(); ++p) {
    const Structure& prototype = prototypes[p];
    if (options.max_atoms > 0 && prototype.size() > options.max_atoms) {
      ++set.over_max_atoms;
      continue;
    }
    set.held_out.push_back(canonical(prototype));
    std::vector<int> elements(prototype.species.begin(), prototype.species.end());
    std::sort(elements.begin(), elements.end());
    elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
    std::vector<std::vector<int>> choices;  // each element: itself, then its substitutes
    bool any = false;
    for (int z : elements) {
      std::vector<int> c{z};
      for (int r : substitutes(z, options.radius_tolerance)) c.push_back(r);
      any = any || c.size() > 1;
      choices.push_back(std::move(c));
    }
    if (!any) {
      ++set.without_substitute;
      continue;
    }
    // The geometry is the prototype's for every variant: distances once.
    const double self = shortest_lattice_vector(prototype.lattice);
    const std::vector<double> distances = distance_matrix(prototype);
    if (contact_ratio(prototype.species, self, distances, prototype) < options.min_contact_ratio) {
      ++set.crowded;
      continue;
    }
    std::mt19937_64 gen(mix_seed(options.seed, RngStream::data, p));
    std::set<std::vector<int>> seen;
    for (int64_t attempt = 0; attempt < options.attempts &&
                              static_cast<int64_t>(seen.size()) < options.per_prototype;
         ++attempt) {
      std::vector<int> map(elements.size());
      std::set<int> used;
      bool ok = true;
      for (size_t e = 0; e < elements.size() && ok; ++e) {
        std::vector<int> free;
        for (int c : choices[e])
          if (!used.count(c)) free.push_back(c);
        ok = !free.empty();
        if (ok) used.insert(map[e] = free[gen() % free.size()]);
      }
      if (!ok || map == elements || !seen.insert(map).second) continue;
      Structure s = prototype;
      for (int& z : s.species) z = map[static_cast<size_t>(std::lower_bound(elements.begin(), elements.end(), z) -
                                                           elements.begin())];
      const double ratio = contact_ratio(s.species, self, distances, s);
      ELBO_CHECK_NUMERIC(ratio > 0 && std::isfinite(ratio), "elbo::data::substitution_set: ", prototype.source, " (",
                         prototype.name, ") has coinciding atoms");
      for (Vec3& row : s.lattice)
        for (double& v : row) v /= ratio;
      s.name = prototype.name + ":" + formula(s, true);
      s.source = prototype.source;
      set.train.push_back(canonical(std::move(s)));
    }
  }
  return set;
}

}  // namespace elbo::data
