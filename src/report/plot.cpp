#include "elbo/report/plot.h"

#include "elbo/core/check.h"
#include "elbo/report/format.h"
#include "elbo/report/html.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <locale>
#include <sstream>

namespace elbo::report {
namespace {

/// Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour-vision deficiency.
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr const char* kColourNames[] = {"blue", "orange", "green", "vermillion", "purple", "sky blue", "black", "yellow"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
/// Line series k: dash pattern k (more than colour tells series apart; 5 patterns x 8 colours).
constexpr const char* kDashes[] = {"", "7 3", "2 2.5", "8 3 2 3", "14 4"};
constexpr const char* kDashNames[] = {"solid line", "dashed line", "dotted line", "dash-dot line", "long-dashed line"};
constexpr int kDashCount = sizeof(kDashes) / sizeof(kDashes[0]);
/// Scatter series k: marker shape k.
constexpr const char* kMarkerNames[] = {"circles", "squares", "triangles", "diamonds", "inverted triangles", "crosses"};
constexpr int kMarkerCount = sizeof(kMarkerNames) / sizeof(kMarkerNames[0]);
constexpr double kCharWidth = 6.2;  // rough advance of an 11px sans-serif glyph
constexpr const char* kFont =
    "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

std::ostringstream classic_stream() {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  return out;
}

/// Fixed-point with at most `decimals` digits, trailing zeros dropped ("12.5", "3").
std::string num(double v, int decimals = 2) {
  std::string s = fixed(v, decimals);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

/// Escaped text with the control characters XML forbids removed.
std::string text(const std::string& s) {
  std::string clean;
  for (char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r') clean += ch;
  return html_escape(clean);
}

double text_width(const std::string& s) { return kCharWidth * static_cast<double>(s.size()); }

/// The opening of an SVG document that is one image to assistive technology: role="img" and its
/// accessible name, a <title> as the first child.
std::string open_svg(int width, int height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" font-family=\"" + kFont + "\" font-size=\"11\">\n<title>" + text(title) +
         "</title>\n";
}

/// How series k is drawn, in words: its colour and its dash pattern, marker or band.
std::string style_name(const Series& s, size_t k) {
  const std::string colour = kColourNames[k % kPaletteSize];
  if (!s.low.empty()) return colour + " band";
  if (s.points) return colour + " " + kMarkerNames[k % kMarkerCount];
  return colour + " " + kDashNames[k % kDashCount];
}

/// A plot in words (an SVG <title>): its title, axes and series with their styles.
std::string describe(const LinePlot& plot) {
  std::string d = plot.title.empty() ? "Chart" : plot.title;
  if (!plot.x_label.empty() || !plot.y_label.empty())
    d += ": " + (plot.y_label.empty() ? std::string("y") : plot.y_label) + " against " +
         (plot.x_label.empty() ? std::string("x") : plot.x_label);
  std::string names;
  for (size_t k = 0; k < plot.series.size(); ++k)
    if (!plot.series[k].label.empty())
      names += (names.empty() ? "" : ", ") + plot.series[k].label + " (" + style_name(plot.series[k], k) + ")";
  return names.empty() ? d : d + "; " + names;
}

/// Marker `shape` (circle, square, triangle, diamond, inverted triangle, cross) of radius about r at (cx, cy).
void draw_marker(std::ostream& out, int shape, double cx, double cy, const char* colour, double r, double opacity) {
  const std::string fill = std::string("\" fill=\"") + colour + "\" fill-opacity=\"" + num(opacity) + "\"/>\n";
  const auto at = [&](double dx, double dy) { return num(cx + dx * r) + "," + num(cy + dy * r); };
  switch (shape % kMarkerCount) {
    case 0: out << "<circle cx=\"" << num(cx) << "\" cy=\"" << num(cy) << "\" r=\"" << num(r) << fill; break;
    case 1: out << "<rect x=\"" << num(cx - 0.9 * r) << "\" y=\"" << num(cy - 0.9 * r) << "\" width=\"" << num(1.8 * r)
                << "\" height=\"" << num(1.8 * r) << fill; break;
    case 2: out << "<path d=\"M" << at(0, -1.3) << "L" << at(1.15, 0.8) << "L" << at(-1.15, 0.8) << "Z" << fill; break;
    case 3: out << "<path d=\"M" << at(0, -1.3) << "L" << at(1.3, 0) << "L" << at(0, 1.3) << "L" << at(-1.3, 0) << "Z"
                << fill; break;
    case 4: out << "<path d=\"M" << at(0, 1.3) << "L" << at(1.15, -0.8) << "L" << at(-1.15, -0.8) << "Z" << fill; break;
    default: out << "<path d=\"M" << at(-1.2, 0) << "L" << at(1.2, 0) << "M" << at(0, -1.2) << "L" << at(0, 1.2)
                 << "\" stroke=\"" << colour << "\" stroke-width=\"1.5\" fill=\"none\"/>\n";
  }
}

/// The dash attribute of line series k ("" for the solid first one).
std::string dash_attribute(size_t k) {
  const char* dash = kDashes[k % kDashCount];
  return *dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string();
}

/// A number for a chart's table: 6 significant digits, "" when not finite.
std::string cell(double v) {
  if (!std::isfinite(v)) return "";
  auto out = classic_stream();
  out << std::setprecision(6) << v;
  return out.str();
}

/// A file name from a chart title: lower-case letters and digits, runs of anything else as one '-'.
std::string csv_name(const std::string& title) {
  std::string name;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!name.empty() && name.back() != '-') name += '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return (name.empty() ? std::string("chart") : name.substr(0, 60)) + ".csv";
}

/// Every point of a plot's series as rows (series, x, y[, lower]), `prefix` cells first.
void append_points(const LinePlot& plot, const std::vector<std::string>& prefix, bool bands,
                   std::vector<std::vector<std::string>>& rows) {
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    const std::string name = s.label.empty() ? "series " + std::to_string(k + 1) : s.label;
    for (size_t i = 0; i < s.y.size(); ++i) {
      std::vector<std::string> row = prefix;
      row.push_back(name);
      row.push_back(cell(s.x.empty() ? static_cast<double>(i) : s.x[i]));
      row.push_back(cell(s.y[i]));
      if (bands) row.push_back(s.low.empty() ? "" : cell(s.low[i]));
      rows.push_back(std::move(row));
    }
  }
}

bool has_band(const LinePlot& plot) {
  return std::any_of(plot.series.begin(), plot.series.end(), [](const Series& s) { return !s.low.empty(); });
}

void check_size(const char* fn, int width, int height) {
  ELBO_CHECK(width >= 120 && height >= 80, fn, ": plot must be at least 120x80 pixels (got ", width,
             "x", height, ")");
}

/// Scientific notation without padding: "2.5e-5", "3e6".
std::string scientific(double v, int decimals) {
  auto out = classic_stream();
  out << std::scientific << std::setprecision(decimals) << v;
  const std::string s = out.str();
  const size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') != std::string::npos) {
    mantissa.erase(mantissa.find_last_not_of('0') + 1);
    if (mantissa.back() == '.') mantissa.pop_back();
  }
  std::string exponent = s.substr(e + 2);
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + (s[e + 1] == '-' ? "-" : "") + exponent;
}

/// Compact tick labels: as many decimals as the step needs, or scientific
/// notation for very large or very small magnitudes.
std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  double mag = 0;
  for (double t : ticks) mag = std::max(mag, std::abs(t));
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : (mag > 0 ? mag : 1.0);
  const int step_exponent = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  const bool sci = mag >= 1e5 || mag < 1e-3;
  std::vector<std::string> labels;
  for (double t : ticks) {
    if (std::abs(t) < step * 1e-6) t = 0;  // no "-0" or "1e-17"
    if (!sci)
      labels.push_back(fixed(t, std::clamp(-step_exponent, 0, 15)));
    else if (t == 0)
      labels.push_back("0");
    else
      labels.push_back(scientific(t, std::clamp(static_cast<int>(std::floor(std::log10(mag))) - step_exponent, 0, 14)));
  }
  return labels;
}

/// An axis spanning its first to its last nice tick.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

Axis make_axis(double lo, double hi, int target) {
  if (lo == hi) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Axis axis;
  axis.ticks = nice_ticks(lo, hi, target);
  axis.lo = std::min(lo, axis.ticks.front());
  axis.hi = std::max(hi, axis.ticks.back());
  axis.labels = tick_labels(axis.ticks);
  return axis;
}

double max_label_width(const Axis& axis) {
  double w = 0;
  for (const auto& l : axis.labels) w = std::max(w, text_width(l));
  return w;
}

/// The plotting area inside the margins, in pixels.
struct Frame {
  double x0, x1, y0, y1;
  double sx(double v, const Axis& a) const { return x0 + (v - a.lo) / (a.hi - a.lo) * (x1 - x0); }
  double sy(double v, const Axis& a) const { return y1 - (v - a.lo) / (a.hi - a.lo) * (y1 - y0); }
};

void draw_background_and_title(std::ostream& out, const std::string& title, int width, int height) {
  out << "<rect width=\"" << width << "\" height=\"" << height << "\" fill=\"#fff\"/>\n";
  if (!title.empty())
    out << "<text x=\"" << num(width / 2.0) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" "
        << "font-weight=\"600\">" << text(title) << "</text>\n";
}

void draw_no_data(std::ostream& out, int width, int height) {
  out << "<text x=\"" << num(width / 2.0) << "\" y=\"" << num(height / 2.0)
      << "\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n";
}

/// Horizontal grid lines with y tick labels on the left.
void draw_y_axis(std::ostream& out, const Frame& f, const Axis& y) {
  for (size_t i = 0; i < y.ticks.size(); ++i) {
    const std::string py = num(f.sy(y.ticks[i], y));
    out << "<line x1=\"" << num(f.x0) << "\" x2=\"" << num(f.x1) << "\" y1=\"" << py << "\" y2=\"" << py
        << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text class=\"ytick\" x=\"" << num(f.x0 - 5) << "\" y=\"" << py
        << "\" dy=\"0.32em\" text-anchor=\"end\" fill=\"#444\">" << y.labels[i] << "</text>\n";
  }
}

void draw_frame_and_labels(std::ostream& out, const Frame& f, const std::string& x_label,
                           const std::string& y_label, int height) {
  out << "<path d=\"M" << num(f.x0) << "," << num(f.y0) << "V" << num(f.y1) << "H" << num(f.x1)
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  if (!x_label.empty())
    out << "<text x=\"" << num((f.x0 + f.x1) / 2) << "\" y=\"" << height - 8
        << "\" text-anchor=\"middle\">" << text(x_label) << "</text>\n";
  if (!y_label.empty())
    out << "<text transform=\"translate(14," << num((f.y0 + f.y1) / 2)
        << ") rotate(-90)\" text-anchor=\"middle\">" << text(y_label) << "</text>\n";
}

Frame make_frame(const Axis& y, bool has_title, bool has_x_label, bool has_y_label, int width,
                 int height) {
  const double left = 10 + max_label_width(y) + (has_y_label ? 20 : 0);
  const double top = has_title ? 32 : 12;
  const double bottom = has_x_label ? 42 : 26;
  return {left, std::max(left + 10, width - 14.0), top, std::max(top + 10, height - bottom)};
}

int tick_target(double pixels, double spacing) { return std::max(2, static_cast<int>(pixels / spacing)); }

std::string line_plot_body(const LinePlot& plot, int width, int height) {
  constexpr const char* fn = "elbo::report::render_svg";
  auto out = classic_stream();
  double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
  const auto x_at = [](const Series& s, size_t i) { return s.x.empty() ? static_cast<double>(i) : s.x[i]; };
  for (const auto& s : plot.series) {
    ELBO_CHECK(s.x.empty() || s.x.size() == s.y.size(), fn, ": series '", s.label, "' has ",
               s.x.size(), " x values but ", s.y.size(), " y values");
    ELBO_CHECK(s.low.empty() || s.low.size() == s.y.size(), fn, ": band '", s.label, "' has ", s.low.size(),
               " lower values but ", s.y.size(), " upper values");
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double x = x_at(s, i), y = s.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
      if (!s.low.empty() && std::isfinite(s.low[i])) ylo = std::min(ylo, s.low[i]), yhi = std::max(yhi, s.low[i]);
    }
  }
  draw_background_and_title(out, plot.title, width, height);
  if (xlo > xhi) {
    draw_no_data(out, width, height);
    return out.str();
  }

  const double top = plot.title.empty() ? 12 : 32, bottom = plot.x_label.empty() ? 26 : 42;
  const Axis ya = make_axis(ylo, yhi, tick_target(height - top - bottom, 40));
  const Frame f = make_frame(ya, !plot.title.empty(), !plot.x_label.empty(), !plot.y_label.empty(),
                             width, height);
  const Axis xa = make_axis(xlo, xhi, tick_target(f.x1 - f.x0, 80));

  draw_y_axis(out, f, ya);
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    const std::string px = num(f.sx(xa.ticks[i], xa));
    out << "<line x1=\"" << px << "\" x2=\"" << px << "\" y1=\"" << num(f.y0) << "\" y2=\"" << num(f.y1)
        << "\" stroke=\"#e5e5e5\"/>\n"
        << "<text class=\"xtick\" x=\"" << px << "\" y=\"" << num(f.y1 + 15)
        << "\" text-anchor=\"middle\" fill=\"#444\">" << xa.labels[i] << "</text>\n";
  }

  std::vector<std::pair<double, double>> drawn;  // points along every line, in pixels
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    const char* colour = kPalette[k % kPaletteSize];
    if (!s.low.empty()) {  // a band: the polygon along low, then back along y
      std::string forward, back;
      for (size_t i = 0; i < s.y.size(); ++i) {
        const double x = x_at(s, i);
        if (!std::isfinite(x) || !std::isfinite(s.y[i]) || !std::isfinite(s.low[i])) continue;
        forward += num(f.sx(x, xa)) + "," + num(f.sy(s.low[i], ya)) + " ";
        back = num(f.sx(x, xa)) + "," + num(f.sy(s.y[i], ya)) + " " + back;
      }
      out << "<polygon fill=\"" << colour << "\" fill-opacity=\"0.25\" stroke=\"none\" points=\"" << forward << back
          << "\"/>\n";
      continue;
    }
    std::vector<std::pair<double, double>> run;
    const auto flush = [&] {
      if (run.size() == 1 || s.points) {
        for (const auto& [cx, cy] : run) draw_marker(out, static_cast<int>(k), cx, cy, colour, 2.5, 0.7);
      } else if (run.size() > 1) {
        out << "<polyline fill=\"none\" stroke=\"" << colour << "\"" << dash_attribute(k)
            << " stroke-width=\"1.75\" stroke-linejoin=\"round\" points=\"";
        for (size_t j = 0; j < run.size(); ++j)
          out << (j ? " " : "") << num(run[j].first) << "," << num(run[j].second);
        out << "\"/>\n";
      }
      for (size_t j = 0; j < run.size(); ++j) {
        drawn.push_back(run[j]);
        if (j + 1 == run.size() || s.points) continue;
        const double dx = run[j + 1].first - run[j].first, dy = run[j + 1].second - run[j].second;
        const int steps = static_cast<int>(std::hypot(dx, dy) / 4);
        for (int t = 1; t < steps; ++t)
          drawn.emplace_back(run[j].first + dx * t / steps, run[j].second + dy * t / steps);
      }
      run.clear();
    };
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double x = x_at(s, i), y = s.y[i];
      if (std::isfinite(x) && std::isfinite(y))
        run.emplace_back(f.sx(x, xa), f.sy(y, ya));
      else
        flush();
    }
    flush();
  }

  std::vector<size_t> legend;
  double legend_text = 0;
  for (size_t k = 0; k < plot.series.size(); ++k) {
    if (plot.series[k].label.empty()) continue;
    legend.push_back(k);
    legend_text = std::max(legend_text, text_width(plot.series[k].label));
  }
  if (!legend.empty()) {
    const double w = 30 + legend_text, h = 8 + 14.0 * legend.size();
    // The corner (top-right, bottom-right, top-left, bottom-left) covering the fewest points.
    double bx = 0, by = 0;
    size_t fewest = SIZE_MAX;
    for (const auto& [cx, cy] : {std::pair{f.x1 - w - 6, f.y0 + 6}, std::pair{f.x1 - w - 6, f.y1 - h - 6},
                                 std::pair{f.x0 + 6, f.y0 + 6}, std::pair{f.x0 + 6, f.y1 - h - 6}}) {
      const size_t covered = std::count_if(drawn.begin(), drawn.end(), [&, cx = cx, cy = cy](const auto& p) {
        return p.first >= cx - 4 && p.first <= cx + w + 4 && p.second >= cy - 4 && p.second <= cy + h + 4;
      });
      if (covered < fewest) fewest = covered, bx = cx, by = cy;
    }
    out << "<g class=\"legend\">\n<rect x=\"" << num(bx) << "\" y=\"" << num(by) << "\" width=\""
        << num(w) << "\" height=\"" << num(h)
        << "\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
    for (size_t j = 0; j < legend.size(); ++j) {
      const double y = by + 11 + 14.0 * j;
      const std::string cy = num(y);
      const Series& s = plot.series[legend[j]];
      const char* colour = kPalette[legend[j] % kPaletteSize];
      if (!s.low.empty())  // a band: a swatch of its fill
        out << "<rect x=\"" << num(bx + 6) << "\" y=\"" << num(y - 4) << "\" width=\"16\" height=\"8\" fill=\"" << colour
            << "\" fill-opacity=\"0.25\"/>\n";
      else if (s.points)
        draw_marker(out, static_cast<int>(legend[j]), bx + 14, y, colour, 3, 0.9);
      else
        out << "<line x1=\"" << num(bx + 6) << "\" x2=\"" << num(bx + 22) << "\" y1=\"" << cy << "\" y2=\"" << cy
            << "\" stroke=\"" << colour << "\"" << dash_attribute(legend[j]) << " stroke-width=\"2\"/>\n";
      out << "<text x=\"" << num(bx + 26) << "\" y=\"" << cy << "\" dy=\"0.32em\">" << text(s.label) << "</text>\n";
    }
    out << "</g>\n";
  }
  draw_frame_and_labels(out, f, plot.x_label, plot.y_label, height);
  return out.str();
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  ELBO_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
             "elbo::report::nice_ticks: need finite lo <= hi (got ", lo, ", ", hi, ")");
  ELBO_CHECK(target >= 1, "elbo::report::nice_ticks: target must be positive (got ", target, ")");
  if (lo == hi) return {lo};
  const double raw = (hi - lo) / target;
  if (!std::isfinite(raw)) return {lo, hi};
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last && ticks.size() < 1000; k += 1) ticks.push_back(k * step);
  return ticks;
}

std::string render_svg(const LinePlot& plot, int width, int height) {
  check_size("elbo::report::render_svg", width, height);
  return open_svg(width, height, describe(plot)) + line_plot_body(plot, width, height) + "</svg>\n";
}

std::string render_svg_row(const std::vector<LinePlot>& plots, int width_each, int height) {
  check_size("elbo::report::render_svg_row", width_each, height);
  if (plots.empty()) return render_svg(LinePlot{}, width_each, height);
  std::string title = std::to_string(plots.size()) + " charts. ";
  for (size_t i = 0; i < plots.size(); ++i) title += (i ? ". " : "") + describe(plots[i]);
  std::string svg = open_svg(width_each * static_cast<int>(plots.size()), height, title);
  for (size_t i = 0; i < plots.size(); ++i)
    svg += "<g transform=\"translate(" + std::to_string(width_each * static_cast<int>(i)) + ",0)\">\n" +
           line_plot_body(plots[i], width_each, height) + "</g>\n";
  return svg + "</svg>\n";
}

Series histogram_series(const std::string& label, const std::vector<double>& values, double lo, double hi, int bins) {
  ELBO_CHECK(bins >= 1 && std::isfinite(lo) && std::isfinite(hi) && lo < hi,
             "elbo::report::histogram_series: need bins >= 1 and finite lo < hi (got ", bins, ", ", lo, ", ", hi, ")");
  std::vector<double> counts(bins, 0.0);
  double finite = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    finite += 1;
    if (v >= lo && v <= hi) counts[std::min(bins - 1, static_cast<int>((v - lo) / (hi - lo) * bins))] += 1;
  }
  const double width = (hi - lo) / bins;
  Series s{label, {lo}, {0.0}};
  for (int b = 0; b < bins; ++b) {
    const double density = finite > 0 ? counts[b] / (finite * width) : 0.0;
    for (double x : {lo + b * width, lo + (b + 1) * width}) s.x.push_back(x), s.y.push_back(density);
  }
  s.x.push_back(hi), s.y.push_back(0.0);
  return s;
}

std::string render_bar_svg(const std::string& title, const std::vector<double>& values,
                           const std::string& x_label, const std::string& y_label, int width,
                           int height) {
  check_size("elbo::report::render_bar_svg", width, height);
  auto out = classic_stream();
  out << open_svg(width, height,
                  (title.empty() ? std::string("Bar chart") : title) + ": " + std::to_string(values.size()) + " bars" +
                      (y_label.empty() ? "" : " of " + y_label) + (x_label.empty() ? "" : ", by " + x_label));
  draw_background_and_title(out, title, width, height);
  if (values.empty()) {
    draw_no_data(out, width, height);
    out << "</svg>\n";
    return out.str();
  }
  double lo = 0, hi = 0;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo == hi) hi = 1;

  const double top = title.empty() ? 12 : 32, bottom = x_label.empty() ? 26 : 42;
  const Axis ya = make_axis(lo, hi, tick_target(height - top - bottom, 40));
  const Frame f = make_frame(ya, !title.empty(), !x_label.empty(), !y_label.empty(), width, height);
  draw_y_axis(out, f, ya);

  const size_t n = values.size();
  const double band = (f.x1 - f.x0) / static_cast<double>(n);
  const double zero = f.sy(0, ya);
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) continue;
    const double y0 = f.sy(std::max(v, 0.0), ya), y1 = f.sy(std::min(v, 0.0), ya);
    out << "<rect class=\"bar\" x=\"" << num(f.x0 + (i + 0.1) * band) << "\" y=\"" << num(y0)
        << "\" width=\"" << num(0.8 * band) << "\" height=\"" << num(y1 - y0) << "\" fill=\""
        << kPalette[0] << "\"><title>" << i << ": " << std::setprecision(4) << v << "</title></rect>\n";
  }
  out << "<line x1=\"" << num(f.x0) << "\" x2=\"" << num(f.x1) << "\" y1=\"" << num(zero) << "\" y2=\""
      << num(zero) << "\" stroke=\"#333\"/>\n";

  const double needed = text_width(std::to_string(n - 1)) + 6;
  size_t every = 1;
  for (size_t base = 1; every * band < needed; base *= 10)
    for (size_t m : {1, 2, 5})
      if ((every = base * m) * band >= needed) break;
  for (size_t i = 0; i < n; i += every)
    out << "<text class=\"xtick\" x=\"" << num(f.x0 + (i + 0.5) * band) << "\" y=\"" << num(f.y1 + 15)
        << "\" text-anchor=\"middle\" fill=\"#444\">" << i << "</text>\n";
  draw_frame_and_labels(out, f, x_label, y_label, height);
  out << "</svg>\n";
  return out.str();
}

Chart line_chart(const LinePlot& plot, int width, int height) {
  Chart chart{render_svg(plot, width, height),
              {"series", plot.x_label.empty() ? "x" : plot.x_label, plot.y_label.empty() ? "y" : plot.y_label},
              {},
              csv_name(plot.title)};
  const bool bands = has_band(plot);
  if (bands) chart.columns.push_back("lower");
  append_points(plot, {}, bands, chart.rows);
  return chart;
}

Chart line_chart_row(const std::vector<LinePlot>& plots, int width_each, int height) {
  std::string title;
  for (const LinePlot& p : plots) title += (title.empty() ? "" : " ") + p.title;
  Chart chart{render_svg_row(plots, width_each, height), {"chart", "series", "x", "y"}, {}, csv_name(title)};
  const bool bands = std::any_of(plots.begin(), plots.end(), has_band);
  if (bands) chart.columns.push_back("lower");
  for (size_t i = 0; i < plots.size(); ++i)
    append_points(plots[i], {plots[i].title.empty() ? "chart " + std::to_string(i + 1) : plots[i].title}, bands, chart.rows);
  return chart;
}

Chart bar_chart(const std::string& title, const std::vector<double>& values, const std::string& x_label,
                const std::string& y_label, const std::vector<std::string>& names, int width, int height) {
  ELBO_CHECK(names.empty() || names.size() == values.size(), "elbo::report::bar_chart: '", title, "' has ",
             values.size(), " values but ", names.size(), " names");
  Chart chart{render_bar_svg(title, values, x_label, y_label, width, height), {"bar"}, {}, csv_name(title)};
  if (!names.empty()) chart.columns.push_back("name");
  chart.columns.push_back(y_label.empty() ? "value" : y_label);
  for (size_t i = 0; i < values.size(); ++i) {
    chart.rows.push_back({std::to_string(i)});
    if (!names.empty()) chart.rows.back().push_back(names[i]);
    chart.rows.back().push_back(cell(values[i]));
  }
  return chart;
}

}  // namespace elbo::report
