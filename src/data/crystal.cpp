#include "elbo/data/crystal.h"

#include "elbo/core/check.h"
#include "elbo/core/math_constants.h"
#include "elbo/data/elements.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <utility>

namespace elbo::data {
namespace {

Vec3 axpy(double a, const Vec3& x, const Vec3& y) { return {a * x[0] + y[0], a * x[1] + y[1], a * x[2] + y[2]}; }

bool finite(const Mat3& m) {
  for (const Vec3& r : m)
    for (double v : r)
      if (!std::isfinite(v)) return false;
  return true;
}

/// cos of an angle in degrees, exactly 0 at 90 (ASE's cellpar_to_cell does the same).
double cos_degrees(double angle) { return angle == 90.0 ? 0.0 : std::cos(angle * kPi / 180.0); }

double angle_degrees(const Vec3& u, const Vec3& v) {
  const double c = dot(u, v) / (norm(u) * norm(v));
  return std::acos(std::clamp(c, -1.0, 1.0)) * 180.0 / kPi;
}

/// LLL reduction of the rows (delta = 3/4): a basis of the same lattice with short, nearly
/// orthogonal vectors, so that the nearest-image enumeration visits a handful of nodes.
Mat3 lll_reduce(Mat3 b) {
  constexpr double delta = 0.75;
  Mat3 bs{};
  const auto gram_schmidt = [&] {
    for (int i = 0; i < 3; ++i) {
      bs[i] = b[i];
      for (int j = 0; j < i; ++j) bs[i] = axpy(-dot(b[i], bs[j]) / dot(bs[j], bs[j]), bs[j], bs[i]);
    }
  };
  int k = 1;
  for (int iteration = 0; k < 3; ++iteration) {
    ELBO_CHECK_NUMERIC(iteration < 10000, "elbo::data::MinimumImage: lattice reduction did not converge ",
                       "(a nearly degenerate cell)");
    gram_schmidt();
    for (int j = k - 1; j >= 0; --j) {
      const double q = std::round(dot(b[k], bs[j]) / dot(bs[j], bs[j]));
      if (q != 0) b[k] = axpy(-q, b[j], b[k]);
    }
    gram_schmidt();
    const double mu = dot(b[k], bs[k - 1]) / dot(bs[k - 1], bs[k - 1]);
    if (dot(bs[k], bs[k]) >= (delta - mu * mu) * dot(bs[k - 1], bs[k - 1])) {
      ++k;
    } else {
      std::swap(b[k], b[k - 1]);
      k = std::max(k - 1, 1);
    }
  }
  return b;
}

double uniform01(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

}  // namespace

Mat3 lattice_from_parameters(const LatticeParameters& p) {
  for (const double length : {p.a, p.b, p.c})
    ELBO_CHECK(std::isfinite(length) && length > 0, "elbo::data::lattice_from_parameters: cell lengths must be "
               "positive (got a = ", p.a, ", b = ", p.b, ", c = ", p.c, ")");
  for (const double angle : {p.alpha, p.beta, p.gamma})
    ELBO_CHECK(std::isfinite(angle) && angle > 0 && angle < 180, "elbo::data::lattice_from_parameters: cell "
               "angles must lie in (0, 180) degrees (got alpha = ", p.alpha, ", beta = ", p.beta, ", gamma = ",
               p.gamma, ")");
  const double ca = cos_degrees(p.alpha), cb = cos_degrees(p.beta), cg = cos_degrees(p.gamma);
  const double sg = p.gamma == 90.0 ? 1.0 : std::sin(p.gamma * kPi / 180.0);
  const double cy = (ca - cb * cg) / sg;
  const double cz2 = 1 - cb * cb - cy * cy;
  ELBO_CHECK(cz2 > 1e-12, "elbo::data::lattice_from_parameters: the angles alpha = ", p.alpha, ", beta = ", p.beta,
             ", gamma = ", p.gamma, " span no volume (degenerate cell)");
  return Mat3{Vec3{p.a, 0, 0}, Vec3{p.b * cg, p.b * sg, 0}, Vec3{p.c * cb, p.c * cy, p.c * std::sqrt(cz2)}};
}

LatticeParameters lattice_parameters(const Mat3& m) {
  LatticeParameters p;
  p.a = norm(m[0]), p.b = norm(m[1]), p.c = norm(m[2]);
  p.alpha = angle_degrees(m[1], m[2]);
  p.beta = angle_degrees(m[0], m[2]);
  p.gamma = angle_degrees(m[0], m[1]);
  return p;
}

double determinant(const Mat3& m) { return dot(m[0], cross(m[1], m[2])); }

double volume(const Mat3& lattice) { return std::abs(determinant(lattice)); }

Mat3 inverse(const Mat3& m) {
  const double det = determinant(m);
  ELBO_CHECK(std::isfinite(det) && det != 0, "elbo::data::inverse: singular matrix (determinant ", det, ")");
  // Columns of the inverse are the cross products of the rows over det.
  const Vec3 c0 = cross(m[1], m[2]), c1 = cross(m[2], m[0]), c2 = cross(m[0], m[1]);
  Mat3 inv{};
  for (int i = 0; i < 3; ++i) inv[i] = {c0[i] / det, c1[i] / det, c2[i] / det};
  return inv;
}

Vec3 cartesian(const Mat3& lattice, const Vec3& frac) {
  Vec3 r{0, 0, 0};
  for (int k = 0; k < 3; ++k) r = axpy(frac[k], lattice[k], r);
  return r;
}

Vec3 fractional(const Mat3& lattice, const Vec3& cart) { return cartesian(inverse(lattice), cart); }

double dot(const Vec3& u, const Vec3& v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

Vec3 cross(const Vec3& u, const Vec3& v) {
  return {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
}

double norm(const Vec3& v) { return std::sqrt(dot(v, v)); }

double wrap_unit(double x) {
  double r = x - std::floor(x);
  if (r >= 1.0 - 1e-10) r = 0.0;
  return r;
}

Vec3 wrap_unit(const Vec3& frac) { return {wrap_unit(frac[0]), wrap_unit(frac[1]), wrap_unit(frac[2])}; }

Vec3 plane_spacings(const Mat3& lattice) {
  const double v = volume(lattice);
  return {v / norm(cross(lattice[1], lattice[2])), v / norm(cross(lattice[2], lattice[0])),
          v / norm(cross(lattice[0], lattice[1]))};
}

MinimumImage::MinimumImage(const Mat3& lattice) : lattice_(lattice) {
  ELBO_CHECK(finite(lattice), "elbo::data::MinimumImage: the lattice has a non-finite entry");
  const double v = volume(lattice);
  const double scale = norm(lattice[0]) * norm(lattice[1]) * norm(lattice[2]);
  ELBO_CHECK(v > 0 && v > 1e-12 * scale, "elbo::data::MinimumImage: the lattice spans no volume (volume ", v,
             " A^3)");
  reduced_ = lll_reduce(lattice);
  reduced_inverse_ = inverse(reduced_);
  Mat3 bs{};
  for (int i = 0; i < 3; ++i) {
    bs[i] = reduced_[i];
    for (int j = 0; j < i; ++j) {
      mu_[i][j] = dot(reduced_[i], bs[j]) / gram_schmidt_sq_[j];
      bs[i] = axpy(-mu_[i][j], bs[j], bs[i]);
    }
    gram_schmidt_sq_[i] = dot(bs[i], bs[i]);
  }
}

/// Closest-vector enumeration (Schnorr & Euchner 1994) in the reduced basis b_k with Gram-Schmidt
/// b*_j: |sum_k y_k b_k|^2 = sum_j |b*_j|^2 (y_j + sum_{k>j} mu_kj y_k)^2, y_k = w_k + n_k. Each
/// level visits integers n_j outward from its centre until the partial sum passes the best so far;
/// the first leaf is Babai's nearest plane, so an LLL basis leaves a few nodes per level whatever
/// the cell's aspect ratio.
double MinimumImage::distance(const Vec3& df, bool exclude_zero) const {
  Vec3 w0{};
  for (int k = 0; k < 3; ++k) {
    ELBO_CHECK(std::isfinite(df[k]), "elbo::data::MinimumImage: non-finite fractional difference");
    w0[k] = df[k] - std::round(df[k]);
  }
  const bool skip_zero = exclude_zero && w0[0] == 0 && w0[1] == 0 && w0[2] == 0;
  // The same vector in the reduced basis, wrapped there too.
  const Vec3 t = cartesian(reduced_inverse_, cartesian(lattice_, w0));
  Vec3 w{};
  for (int k = 0; k < 3; ++k) w[k] = skip_zero ? 0.0 : t[k] - std::round(t[k]);
  double best = std::numeric_limits<double>::infinity();
  Vec3 y{};
  int64_t nodes = 0;
  const auto search = [&](const auto& self, int level, double partial, bool outer_zero) -> void {
    ELBO_CHECK_NUMERIC(++nodes <= 1000000, "elbo::data::MinimumImage: the nearest-image search did not finish ",
                       "(a nearly degenerate cell)");
    double c = w[level];
    for (int k = level + 1; k < 3; ++k) c += mu_[k][level] * y[k];
    const double g = gram_schmidt_sq_[level];
    const double centre = std::round(-c);
    // n = centre, centre + 1, centre - 1, centre + 2, ...: stop a side once its term is too large.
    bool up = true, down = true;
    for (int64_t d = 0; up || down; ++d) {
      for (const int side : {1, -1}) {
        if (d == 0 && side == -1) continue;
        bool& open = side == 1 ? up : down;
        if (!open) continue;
        const double n = centre + static_cast<double>(side * d);
        const double term = g * (c + n) * (c + n);
        if (!(partial + term < best)) {
          if (d == 0) return;  // the centre's term is the smallest of the level
          open = false;
          continue;
        }
        const bool zero = outer_zero && n == 0;
        y[level] = w[level] + n;
        if (level > 0)
          self(self, level - 1, partial + term, zero);
        else if (!(skip_zero && zero))
          best = partial + term;
      }
    }
  };
  search(search, 2, 0.0, true);
  return std::sqrt(best);
}

double minimum_image_distance(const Mat3& lattice, const Vec3& df, bool exclude_zero) {
  return MinimumImage(lattice).distance(df, exclude_zero);
}

double shortest_lattice_vector(const Mat3& lattice) { return MinimumImage(lattice).distance({0, 0, 0}, true); }

std::vector<double> distance_matrix(const Structure& s) {
  const size_t n = s.species.size();
  ELBO_CHECK(s.frac.size() == n, "elbo::data::distance_matrix: ", s.frac.size(), " positions for ", n, " species");
  std::vector<double> d(n * n, 0.0);
  if (n == 0) return d;
  const MinimumImage image(s.lattice);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const Vec3& a = s.frac[i];
      const Vec3& b = s.frac[j];
      d[i * n + j] = d[j * n + i] = image.distance({b[0] - a[0], b[1] - a[1], b[2] - a[2]});
    }
  return d;
}

double min_interatomic_distance(const Structure& s) {
  ELBO_CHECK(!s.species.empty(), "elbo::data::min_interatomic_distance: ", s.name, " has no atoms");
  double best = shortest_lattice_vector(s.lattice);
  const size_t n = s.species.size();
  const std::vector<double> d = distance_matrix(s);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) best = std::min(best, d[i * n + j]);
  return best;
}

Structure canonical(Structure s) {
  const size_t n = s.species.size();
  ELBO_CHECK(s.frac.size() == n, "elbo::data::canonical: ", s.frac.size(), " positions for ", n, " species");
  for (Vec3& f : s.frac) f = wrap_unit(f);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return std::tie(s.species[i], s.frac[i]) < std::tie(s.species[j], s.frac[j]);
  });
  Structure out = s;
  for (size_t i = 0; i < n; ++i) {
    out.species[i] = s.species[order[i]];
    out.frac[i] = s.frac[order[i]];
  }
  return out;
}

Structure shift_origin(Structure s, const Vec3& shift) {
  for (Vec3& f : s.frac) f = wrap_unit(Vec3{f[0] + shift[0], f[1] + shift[1], f[2] + shift[2]});
  return s;
}

Structure random_origin_shift(Structure s, uint64_t seed) {
  std::mt19937_64 gen(seed);
  const Vec3 shift{uniform01(gen), uniform01(gen), uniform01(gen)};
  return shift_origin(std::move(s), shift);
}

double mass_density(const Structure& s) {
  ELBO_CHECK(s.size() > 0, "elbo::data::mass_density: the structure '", s.name, "' has no atoms");
  const double v = volume(s.lattice);
  ELBO_CHECK(std::isfinite(v) && v > 0, "elbo::data::mass_density: the cell of '", s.name, "' has volume ", v, " A^3");
  double mass = 0;  // u
  for (int z : s.species) mass += element(z).mass;
  constexpr double kGramsPerCubicCentimetre = 1e24 / 6.02214076e23;  // 1 u / A^3 in g/cm^3
  return kGramsPerCubicCentimetre * mass / v;
}

std::string formula(const Structure& s, bool reduce) {
  std::map<int, int64_t> counts;
  for (int z : s.species) ++counts[z];
  int64_t divisor = 0;
  for (const auto& [z, count] : counts) divisor = std::gcd(divisor, count);
  if (!reduce || divisor == 0) divisor = 1;
  std::vector<int> order;
  for (const auto& entry : counts) order.push_back(entry.first);
  // pymatgen's order: by electronegativity, unknown (noble gases) last.
  const auto key = [](int z) {
    const double x = element(z).electronegativity;
    return std::make_pair(x > 0 ? x : std::numeric_limits<double>::infinity(), z);
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
  std::string out;
  for (int z : order) {
    out += element(z).symbol;
    const int64_t count = counts[z] / divisor;
    if (count != 1) out += std::to_string(count);
  }
  return out;
}

CrystalBatch pad_structures(const std::vector<Structure>& structures, int64_t max_atoms, torch::Dtype dtype) {
  ELBO_CHECK(max_atoms >= 1, "elbo::data::pad_structures: max_atoms must be positive (got ", max_atoms, ")");
  ELBO_CHECK(dtype == torch::kFloat32 || dtype == torch::kFloat64,
             "elbo::data::pad_structures: dtype must be float32 or float64");
  const auto b = static_cast<int64_t>(structures.size());
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  torch::Tensor lattice = torch::zeros({b, 3, 3}, f64), parameters = torch::zeros({b, 6}, f64);
  torch::Tensor count = torch::zeros({b}, i64), species = torch::zeros({b, max_atoms}, i64);
  torch::Tensor frac = torch::zeros({b, max_atoms, 3}, f64), mask = torch::zeros({b, max_atoms}, f64);
  auto L = lattice.accessor<double, 3>();
  auto P = parameters.accessor<double, 2>();
  auto C = count.accessor<int64_t, 1>();
  auto S = species.accessor<int64_t, 2>();
  auto F = frac.accessor<double, 3>();
  auto M = mask.accessor<double, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const Structure& s = structures[static_cast<size_t>(i)];
    const int64_t n = s.size();
    const std::string where = s.source.empty() ? s.name : s.source + " (" + s.name + ")";
    ELBO_CHECK(n >= 1, "elbo::data::pad_structures: ", where, " has no atoms");
    ELBO_CHECK(n <= max_atoms, "elbo::data::pad_structures: ", where, " has ", n, " atoms, more than max_atoms = ",
               max_atoms, " (data.max_atoms)");
    ELBO_CHECK(static_cast<int64_t>(s.frac.size()) == n, "elbo::data::pad_structures: ", where, " has ",
               s.frac.size(), " positions for ", n, " atoms");
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) L[i][r][c] = s.lattice[r][c];
    const LatticeParameters p = lattice_parameters(s.lattice);
    const double values[6] = {p.a, p.b, p.c, p.alpha, p.beta, p.gamma};
    for (int k = 0; k < 6; ++k) P[i][k] = values[k];
    C[i] = n;
    for (int64_t a = 0; a < n; ++a) {
      S[i][a] = s.species[static_cast<size_t>(a)];
      const Vec3 f = wrap_unit(s.frac[static_cast<size_t>(a)]);
      for (int k = 0; k < 3; ++k) F[i][a][k] = f[k];
      M[i][a] = 1;
    }
  }
  return {lattice.to(dtype), parameters.to(dtype), count, species, frac.to(dtype), mask.to(dtype)};
}

std::vector<Structure> unpad_structures(const CrystalBatch& batch, const std::string& prefix) {
  const torch::Tensor lattice = batch.lattice.to(torch::kFloat64).contiguous();
  const torch::Tensor frac = batch.frac.to(torch::kFloat64).contiguous();
  const torch::Tensor species = batch.species.to(torch::kInt64).contiguous();
  const torch::Tensor mask = batch.mask.to(torch::kFloat64).contiguous();
  ELBO_CHECK(lattice.dim() == 3 && frac.dim() == 3 && species.dim() == 2 && mask.sizes() == species.sizes() &&
                 frac.size(1) == species.size(1) && lattice.size(0) == species.size(0),
             "elbo::data::unpad_structures: inconsistent batch shapes");
  auto L = lattice.accessor<double, 3>();
  auto F = frac.accessor<double, 3>();
  auto S = species.accessor<int64_t, 2>();
  auto M = mask.accessor<double, 2>();
  std::vector<Structure> out;
  for (int64_t i = 0; i < species.size(0); ++i) {
    Structure s;
    s.name = prefix + std::to_string(i + 1);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) s.lattice[r][c] = L[i][r][c];
    for (int64_t a = 0; a < species.size(1); ++a) {
      if (M[i][a] < 0.5 || S[i][a] <= 0) continue;
      s.species.push_back(static_cast<int>(S[i][a]));
      s.frac.push_back({F[i][a][0], F[i][a][1], F[i][a][2]});
    }
    out.push_back(std::move(s));
  }
  return out;
}

torch::Tensor shift_coordinates(const torch::Tensor& frac, const torch::Tensor& shift) {
  ELBO_CHECK(frac.dim() == 3 && frac.size(2) == 3 && shift.dim() == 2 && shift.size(0) == frac.size(0) &&
                 shift.size(1) == 3,
             "elbo::data::shift_coordinates: expects frac [B, N, 3] and shift [B, 3] (got ", frac.sizes(), " and ",
             shift.sizes(), ")");
  torch::Tensor r = torch::remainder(frac + shift.unsqueeze(1).to(frac.dtype()), 1.0);
  return torch::where(r >= 1.0, torch::zeros_like(r), r);  // remainder(-tiny, 1) rounds to 1
}

}  // namespace elbo::data
