#include "elbo/run/cell_projections.h"

#include "elbo/core/check.h"
#include "elbo/data/elements.h"
#include "elbo/report/format.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cmath>
#include <numeric>

namespace elbo::run {
namespace {

using data::cross;
using data::dot;

data::Vec3 scaled(const data::Vec3& v, double s) { return {v[0] * s, v[1] * s, v[2] * s}; }
data::Vec3 minus(const data::Vec3& u, const data::Vec3& v) { return {u[0] - v[0], u[1] - v[1], u[2] - v[2]}; }

std::string px(double v) { return report::fixed(v, 1); }

/// Colours of a panel's elements, in order of atomic number: Okabe & Ito's (2008) seven without black,
/// then Tol's (2021) muted ones, so the few elements of one cell are told apart; repeated past 12 (each
/// disc also carries its symbol).
constexpr const char* kElementPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
                                           "#F0E442", "#999999", "#882255", "#44AA99", "#117733", "#332288"};
constexpr size_t kElementPaletteSize = sizeof(kElementPalette) / sizeof(kElementPalette[0]);

/// `text` cut to at most `chars` characters, the cut marked by "...".
std::string fit(const std::string& text, size_t chars) {
  return text.size() <= chars ? text : text.substr(0, chars - 3) + "...";
}

std::string symbol(int z) {
  return z >= 1 && z <= data::kMaxAtomicNumber ? std::string(data::element(z).symbol) : "Z" + std::to_string(z);
}

}  // namespace

report::Chart cell_projections(const std::vector<data::Structure>& structures, int64_t columns) {
  ELBO_CHECK(!structures.empty(), "cell_projections: no structures to draw");
  ELBO_CHECK(columns >= 1, "cell_projections: columns must be at least 1 (got ", columns, ")");
  const int64_t n = static_cast<int64_t>(structures.size()), cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int width = static_cast<int>(cols) * kCellPanel, height = static_cast<int>(rows) * (kCellPanel + kCellCaption);
  const std::string title = std::to_string(n) + " unit cells, each projected on its ab plane (x along a, y in the ab "
                            "plane): the ab face solid, the face at c dashed, the c edges dotted; atoms as discs "
                            "coloured by element, listed under each cell";
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + std::to_string(width) +
                    "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, "
                    "Arial, sans-serif\" font-size=\"11\">\n<title>" + report::html_escape(title) + "</title>\n" +
                    "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  report::Chart chart;
  chart.columns = {"structure", "element", "x (A)", "y (A)", "height (A)"};
  chart.file_name = "cells.csv";
  constexpr double kMargin = 14;
  for (int64_t i = 0; i < n; ++i) {
    const data::Structure& s = structures[static_cast<size_t>(i)];
    const data::Vec3 &a = s.lattice[0], &b = s.lattice[1], &c = s.lattice[2];
    const double la = data::norm(a);
    ELBO_CHECK(std::isfinite(data::volume(s.lattice)) && std::abs(data::volume(s.lattice)) > 1e-9 && la > 0,
               "cell_projections: the cell of '", s.name, "' spans no volume");
    const data::Vec3 ex = scaled(a, 1 / la);
    data::Vec3 ey = minus(b, scaled(ex, dot(b, ex)));
    ey = scaled(ey, 1 / data::norm(ey));
    const data::Vec3 ez = cross(ex, ey);
    const auto cartesian = [&](const data::Vec3& f) {
      return data::Vec3{f[0] * a[0] + f[1] * b[0] + f[2] * c[0], f[0] * a[1] + f[1] * b[1] + f[2] * c[1],
                        f[0] * a[2] + f[1] * b[2] + f[2] * c[2]};
    };
    // The eight corners bound the drawing (atoms are inside the cell).
    std::vector<std::array<double, 2>> corners;
    for (int k = 0; k < 8; ++k) {
      const data::Vec3 r =
          cartesian({static_cast<double>(k & 1), static_cast<double>((k >> 1) & 1), static_cast<double>(k >> 2)});
      corners.push_back({dot(r, ex), dot(r, ey)});
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const auto& p : corners)
      x0 = std::min(x0, p[0]), x1 = std::max(x1, p[0]), y0 = std::min(y0, p[1]), y1 = std::max(y1, p[1]);
    const double scale = (kCellPanel - 2 * kMargin) / std::max({x1 - x0, y1 - y0, 1e-9});
    const double left = static_cast<double>(i % cols) * kCellPanel;
    const double top = static_cast<double>(i / cols) * (kCellPanel + kCellCaption);
    const double cx = left + kCellPanel / 2.0 - (x0 + x1) / 2 * scale;
    const double cy = top + kCellPanel / 2.0 + (y0 + y1) / 2 * scale;
    const auto X = [&](double x) { return cx + x * scale; };
    const auto Y = [&](double y) { return cy - y * scale; };  // SVG's y grows downwards
    const auto edge = [&](int p, int q, const char* dash) {
      svg += "<line x1=\"" + px(X(corners[p][0])) + "\" y1=\"" + px(Y(corners[p][1])) + "\" x2=\"" +
             px(X(corners[q][0])) + "\" y2=\"" + px(Y(corners[q][1])) + "\" stroke=\"#444\" stroke-width=\"1\"" +
             (*dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string()) + "/>\n";
    };
    svg += "<g>\n";
    for (int k : {4, 5, 6, 7}) edge(k - 4, k, "1.5 2.5");  // c edges
    edge(4, 5, "5 3"), edge(5, 7, "5 3"), edge(7, 6, "5 3"), edge(6, 4, "5 3");  // the face at c
    edge(0, 1, ""), edge(1, 3, ""), edge(3, 2, ""), edge(2, 0, "");                // the ab face
    std::vector<size_t> order(s.species.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::vector<double> heights;
    for (const data::Vec3& f : s.frac) heights.push_back(dot(cartesian(f), ez));
    std::stable_sort(order.begin(), order.end(), [&](size_t p, size_t q) { return heights[p] < heights[q]; });
    std::vector<int> elements = s.species;
    std::sort(elements.begin(), elements.end());
    elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
    const auto colour = [&](int z) {
      const size_t rank = static_cast<size_t>(std::lower_bound(elements.begin(), elements.end(), z) - elements.begin());
      return std::string(kElementPalette[rank % kElementPaletteSize]);
    };
    for (size_t j : order) {
      const int z = s.species[j];
      const data::Vec3 r = cartesian(s.frac[j]);
      const bool known = z >= 1 && z <= data::kMaxAtomicNumber && data::element(z).radius > 0;
      const double radius_a = known ? data::element(z).radius : 1.0;  // Angstrom
      const double radius = std::clamp(0.5 * radius_a * scale, 2.5, 12.0);
      const std::string x = px(X(dot(r, ex))), y = px(Y(dot(r, ey)));
      svg += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"" + px(radius) + "\" fill=\"" + colour(z) +
             "\" stroke=\"#222\" stroke-width=\"0.6\"><title>" + report::html_escape(symbol(z)) + " at (" +
             report::fixed(s.frac[j][0], 3) + ", " + report::fixed(s.frac[j][1], 3) + ", " +
             report::fixed(s.frac[j][2], 3) + ")</title></circle>\n<text x=\"" + x + "\" y=\"" + y +
             "\" dy=\"0.35em\" text-anchor=\"middle\" font-size=\"8\" fill=\"#000\" stroke=\"#fff\" "
             "stroke-width=\"2\" paint-order=\"stroke\" aria-hidden=\"true\">" + report::html_escape(symbol(z)) +
             "</text>\n";
      chart.rows.push_back({s.name, symbol(z), report::fixed(dot(r, ex), 3), report::fixed(dot(r, ey), 3),
                            report::fixed(heights[j], 3)});
    }
    // Caption: the name and formula, then each element's colour (a square swatch) and symbol.
    const double base = top + kCellPanel;
    svg += "<text x=\"" + px(left + 6) + "\" y=\"" + px(base + 12) + "\">" +
           report::html_escape(fit(s.name + ": " + data::formula(s), (kCellPanel - 12) / 6)) + "</text>\n";
    double at = left + 6;
    for (int z : elements) {
      if (at > left + kCellPanel - 30) break;  // no room: the discs carry their symbols
      svg += "<rect x=\"" + px(at) + "\" y=\"" + px(base + 20) + "\" width=\"10\" height=\"10\" fill=\"" + colour(z) +
             "\" stroke=\"#222\" stroke-width=\"0.6\"/><text x=\"" + px(at + 13) + "\" y=\"" + px(base + 29) + "\">" +
             report::html_escape(symbol(z)) + "</text>\n";
      at += 22 + 7 * static_cast<double>(symbol(z).size());
    }
    svg += "</g>\n";
  }
  chart.svg = svg + "</svg>\n";
  return chart;
}

}  // namespace elbo::run
