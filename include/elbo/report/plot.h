#pragma once
#include "elbo/report/html.h"

#include <string>
#include <vector>

namespace elbo::report {

/// One line of a plot. An empty `x` plots `y` against 0, 1, 2, ...; otherwise
/// `x` and `y` have the same length. An empty label leaves the series out of the legend.
/// Series k is told apart by more than colour: lines by dash pattern (solid, dashed, dotted,
/// dash-dot, long dashes), scatters by marker shape, both shown in the legend.
struct Series {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  bool points = false;  ///< a scatter: one dot per point, no line
  /// A band: when given (as long as y), the area between `low` and `y` is filled (translucent), no line.
  std::vector<double> low;
};

/// A small line chart with axes, ticks, a legend and a title.
struct LinePlot {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
};

/// Renders the plot as a standalone SVG document (no external resources) with role="img" and a
/// <title> naming the axes and each series' colour and style. Non-finite points are skipped;
/// an empty plot renders "no data".
std::string render_svg(const LinePlot& plot, int width = 480, int height = 300);

/// Several plots side by side in one SVG (e.g. loss, reconstruction, KL).
std::string render_svg_row(const std::vector<LinePlot>& plots, int width_each = 420, int height = 300);

/// A histogram of `values` over `bins` equal bins of [lo, hi] as the outline of its bars: a step line of
/// densities (fraction of the finite values per unit of x, so histograms of different sizes overlay in one
/// LinePlot). Values outside [lo, hi] are counted in no bin; non-finite ones are left out.
Series histogram_series(const std::string& label, const std::vector<double>& values, double lo, double hi, int bins);

/// Tick values covering [lo, hi]: multiples of a step of 1, 2 or 5 times a
/// power of ten, about `target` intervals, the first <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

/// A bar chart (e.g. KL per latent dimension) as SVG (role="img", a <title>): bar i is labelled
/// with its index; non-finite values leave their bar out.
std::string render_bar_svg(const std::string& title, const std::vector<double>& values,
                           const std::string& x_label, const std::string& y_label,
                           int width = 480, int height = 260);

/// The plot as a report chart: render_svg and the points it draws (series, x, y[, lower]; non-finite
/// values empty), downloadable as "<title>.csv".
Chart line_chart(const LinePlot& plot, int width = 480, int height = 300);

/// Plots side by side (render_svg_row) and their points (chart, series, x, y[, lower]).
Chart line_chart_row(const std::vector<LinePlot>& plots, int width_each = 420, int height = 300);

/// A bar chart (render_bar_svg) and its values (bar index, its name when `names` are given, value).
Chart bar_chart(const std::string& title, const std::vector<double>& values, const std::string& x_label,
                const std::string& y_label, const std::vector<std::string>& names = {}, int width = 480,
                int height = 260);

}  // namespace elbo::report
