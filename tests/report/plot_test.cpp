#include "elbo/report/plot.h"

#include "report/test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>

namespace elbo::report {
namespace {

using testing::count;
using testing::expect_throw_containing;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// "" if every element is closed in order and every '&' starts a known entity, else the first problem.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> open;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (doc[i] == '&') {
      bool known = false;
      for (const char* entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"})
        known = known || doc.compare(i, std::string(entity).size(), entity) == 0;
      if (!known) return "bare & at " + std::to_string(i);
      continue;
    }
    if (doc[i] != '<') continue;
    const size_t end = doc.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    const std::string tag = doc.substr(i + 1, end - i - 1);
    if (tag.empty()) return "empty tag at " + std::to_string(i);
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected </" + tag.substr(1) + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find_first_of(" \t\n")));
    }
    i = end;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

/// The number of points of each polyline, in document order.
std::vector<size_t> polyline_sizes(const std::string& svg) {
  static const std::regex polyline("<polyline[^>]*points=\"([^\"]*)\"");
  std::vector<size_t> sizes;
  for (std::sregex_iterator it(svg.begin(), svg.end(), polyline), end; it != end; ++it) {
    const std::string points = (*it)[1];
    sizes.push_back(points.empty() ? 0 : count(points, " ") + 1);
  }
  return sizes;
}

/// The numbers written as tick labels of the given class ("xtick" or "ytick").
std::vector<double> tick_values(const std::string& svg, const std::string& cls) {
  const std::regex tick("<text class=\"" + cls + "\"[^>]*>([^<]*)</text>");
  std::vector<double> values;
  for (std::sregex_iterator it(svg.begin(), svg.end(), tick), end; it != end; ++it)
    values.push_back(std::stod((*it)[1]));
  return values;
}

/// Ticks are evenly spaced by 1, 2 or 5 times a power of ten, and each is a multiple of the step.
void expect_nice(const std::vector<double>& ticks) {
  ASSERT_GE(ticks.size(), 2u);
  const double step = ticks[1] - ticks[0];
  ASSERT_GT(step, 0);
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 || std::abs(mantissa - 5) < 1e-6)
      << "step " << step;
  for (size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_NEAR(ticks[i], ticks[0] + i * step, step * 1e-6) << "tick " << i;
    EXPECT_NEAR(ticks[i] / step, std::round(ticks[i] / step), 1e-6) << "tick " << ticks[i];
  }
}

void expect_standalone_svg(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg.substr(0, 80);
  EXPECT_EQ(count(svg, "<svg"), 1u);
  EXPECT_EQ(count(svg, "</svg>"), 1u);
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(NiceTicks, KnownRanges) {
  const std::vector<std::pair<std::pair<double, double>, std::vector<double>>> cases = {
      {{0, 1}, {0, 0.2, 0.4, 0.6, 0.8, 1}},
      {{0.13, 9.7}, {0, 2, 4, 6, 8, 10}},
      {{-3.7, 12.1}, {-5, 0, 5, 10, 15}},
      {{1000, 1040}, {1000, 1010, 1020, 1030, 1040}},
  };
  for (const auto& [range, expected] : cases) {
    const auto ticks = nice_ticks(range.first, range.second, 5);
    ASSERT_EQ(ticks.size(), expected.size()) << range.first << ".." << range.second;
    for (size_t i = 0; i < ticks.size(); ++i) EXPECT_NEAR(ticks[i], expected[i], 1e-12);
  }
  EXPECT_EQ(nice_ticks(2, 2), std::vector<double>{2});
}

TEST(NiceTicks, RandomRangesAreCoveredByNiceSteps) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> exponent(-8, 8), unit(-1, 1);
  for (int trial = 0; trial < 500; ++trial) {
    const double scale = std::pow(10.0, exponent(rng));
    double lo = unit(rng) * scale, hi = unit(rng) * scale;
    if (lo > hi) std::swap(lo, hi);
    const int target = 2 + trial % 8;
    const auto ticks = nice_ticks(lo, hi, target);
    expect_nice(ticks);
    EXPECT_LE(ticks.front(), lo + (hi - lo) * 1e-8);
    EXPECT_GE(ticks.back(), hi - (hi - lo) * 1e-8);
    EXPECT_LE(ticks.size(), static_cast<size_t>(2 * target + 2)) << lo << ".." << hi;
  }
}

TEST(NiceTicks, RejectsBadRanges) {
  expect_throw_containing<std::invalid_argument>([] { nice_ticks(1, 0); }, {"nice_ticks", "1", "0"});
  expect_throw_containing<std::invalid_argument>([] { nice_ticks(kNan, 1); }, {"nice_ticks", "nan"});
  expect_throw_containing<std::invalid_argument>([] { nice_ticks(0, 1, 0); }, {"target"});
}

TEST(RenderSvg, StandaloneDocumentWithTitleLabelsAndLegend) {
  LinePlot plot{"ELBO", "epoch", "nats", {{"train", {1, 2, 3}, {-120, -100, -95}}, {"valid", {1, 2, 3}, {-125, -105, -101}}}};
  const std::string svg = render_svg(plot, 500, 320);
  expect_standalone_svg(svg);
  EXPECT_NE(svg.find("width=\"500\" height=\"320\""), std::string::npos);
  for (const char* text : {">ELBO<", ">epoch<", ">nats<", ">train<", ">valid<"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  EXPECT_EQ(polyline_sizes(svg), (std::vector<size_t>{3, 3}));
}

TEST(RenderSvg, PolylineHasOnePointPerValueInsideTheCanvas) {
  const std::string svg = render_svg({"", "", "", {{"", {0, 1, 2, 3, 4}, {0, 1, 4, 9, 16}}}}, 480, 300);
  ASSERT_EQ(polyline_sizes(svg), std::vector<size_t>{5});
  static const std::regex pair("(-?[0-9.]+),(-?[0-9.]+)");
  const std::string points = svg.substr(svg.find("points=\""));
  for (std::sregex_iterator it(points.begin(), points.begin() + points.find("\"/>"), pair), end; it != end; ++it) {
    EXPECT_GE(std::stod((*it)[1]), 0);
    EXPECT_LE(std::stod((*it)[1]), 480);
    EXPECT_GE(std::stod((*it)[2]), 0);
    EXPECT_LE(std::stod((*it)[2]), 300);
  }
  EXPECT_EQ(svg.find("class=\"legend\""), std::string::npos);  // unlabelled series
}

TEST(RenderSvg, NonFinitePointsBreakTheLine) {
  const std::string svg = render_svg({"", "", "", {{"s", {}, {1, kNan, 3, 4, kInf, 6}}}});
  EXPECT_EQ(polyline_sizes(svg), std::vector<size_t>{2});
  EXPECT_EQ(count(svg, "<circle"), 2u);  // the isolated points 1 and 6
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
  // A non-finite x drops its point as well.
  EXPECT_EQ(polyline_sizes(render_svg({"", "", "", {{"s", {0, kNan, 2, 3}, {1, 2, 3, 4}}}})), std::vector<size_t>{2});
}

TEST(RenderSvg, SinglePointIsADot) {
  const std::string svg = render_svg({"", "", "", {{"one", {5}, {0.25}}}});
  EXPECT_TRUE(polyline_sizes(svg).empty());
  EXPECT_EQ(count(svg, "<circle"), 1u);
  expect_nice(tick_values(svg, "ytick"));
  expect_nice(tick_values(svg, "xtick"));
}

TEST(RenderSvg, EqualYValuesGetAPaddedRange) {
  const std::string svg = render_svg({"", "", "", {{"flat", {0, 1, 2}, {2, 2, 2}}}});
  ASSERT_EQ(polyline_sizes(svg), std::vector<size_t>{3});
  const auto ticks = tick_values(svg, "ytick");
  expect_nice(ticks);
  EXPECT_LT(ticks.front(), 2);
  EXPECT_GT(ticks.back(), 2);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(RenderSvg, EmptyPlotSaysNoData) {
  for (const LinePlot& plot : {LinePlot{"empty", "", "", {}}, LinePlot{"", "", "", {{"a", {}, {}}}},
                               LinePlot{"", "", "", {{"a", {}, {kNan, kInf}}}}}) {
    const std::string svg = render_svg(plot);
    expect_standalone_svg(svg);
    EXPECT_NE(svg.find(">no data<"), std::string::npos);
    EXPECT_TRUE(polyline_sizes(svg).empty());
  }
}

TEST(RenderSvg, SeriesGetDistinctColours) {
  LinePlot plot;
  for (int k = 0; k < 8; ++k) plot.series.push_back({"s" + std::to_string(k), {0, 1}, {double(k), k + 1.0}});
  const std::string svg = render_svg(plot);
  static const std::regex stroke("<polyline[^>]*stroke=\"(#[0-9A-Fa-f]{6})\"");
  std::set<std::string> colours;
  for (std::sregex_iterator it(svg.begin(), svg.end(), stroke), end; it != end; ++it) colours.insert((*it)[1]);
  EXPECT_EQ(colours.size(), 8u);
}

TEST(RenderSvg, TextIsEscaped) {
  const std::string svg = render_svg({"loss <nats> & \"bits\"", "it's", "", {{"a<b", {0, 1}, {0, 1}}}});
  EXPECT_NE(svg.find("loss &lt;nats&gt; &amp; &quot;bits&quot;"), std::string::npos);
  EXPECT_NE(svg.find("it&#39;s"), std::string::npos);
  EXPECT_NE(svg.find(">a&lt;b<"), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(RenderSvg, TickLabelsAreNiceAcrossScales) {
  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
           {0.013, 0.087}, {0, 3e6}, {-2.5e-6, 1e-6}, {-471.2, -469.9}, {1e-3, 1.0}, {12345, 12346}}) {
    const std::string svg = render_svg({"", "", "", {{"", {lo, hi}, {lo, hi}}}});
    for (const char* axis : {"xtick", "ytick"}) {
      const auto ticks = tick_values(svg, axis);
      SCOPED_TRACE(std::string(axis) + " for " + std::to_string(lo) + ".." + std::to_string(hi));
      expect_nice(ticks);
      EXPECT_LE(ticks.front(), lo);
      EXPECT_GE(ticks.back(), hi);
    }
  }
  const std::string svg = render_svg({"", "", "", {{"", {0, 1}, {0, 3e6}}}});
  EXPECT_NE(svg.find(">3e6<"), std::string::npos);
  EXPECT_NE(svg.find(">0.4<"), std::string::npos);
}

TEST(RenderSvg, RejectsMismatchedSeriesAndTinyCanvas) {
  expect_throw_containing<std::invalid_argument>(
      [] { render_svg({"", "", "", {{"kl", {1, 2, 3}, {1, 2}}}}); }, {"render_svg", "'kl'", "3 x values", "2 y values"});
  expect_throw_containing<std::invalid_argument>([] { render_svg({}, 50, 300); }, {"render_svg", "50x300"});
}

TEST(RenderSvgRow, PlotsSideBySideInOneDocument) {
  std::vector<LinePlot> plots;
  for (const char* title : {"loss", "reconstruction", "KL"}) plots.push_back({title, "step", "", {{"", {}, {3, 2, 1}}}});
  const std::string svg = render_svg_row(plots, 400, 250);
  expect_standalone_svg(svg);
  EXPECT_NE(svg.find("width=\"1200\" height=\"250\""), std::string::npos);
  for (const char* shift : {"translate(0,0)", "translate(400,0)", "translate(800,0)"})
    EXPECT_NE(svg.find(shift), std::string::npos) << shift;
  for (const char* title : {">loss<", ">reconstruction<", ">KL<"}) EXPECT_NE(svg.find(title), std::string::npos);
  EXPECT_EQ(polyline_sizes(svg), (std::vector<size_t>{3, 3, 3}));
  EXPECT_NE(render_svg_row({}).find(">no data<"), std::string::npos);
}

TEST(RenderBarSvg, OneBarPerFiniteValueWithIndexLabels) {
  const std::string svg = render_bar_svg("KL per dimension", {0.5, 2.0, kNan, 1.25}, "latent dimension", "nats");
  expect_standalone_svg(svg);
  EXPECT_EQ(count(svg, "class=\"bar\""), 3u);
  EXPECT_EQ(tick_values(svg, "xtick"), (std::vector<double>{0, 1, 2, 3}));
  expect_nice(tick_values(svg, "ytick"));
  for (const char* text : {">KL per dimension<", ">latent dimension<", ">nats<"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
}

TEST(RenderBarSvg, NegativeBarsHangBelowZero) {
  const std::string svg = render_bar_svg("", {-1, 1}, "", "");
  static const std::regex bar("<rect class=\"bar\" x=\"[^\"]*\" y=\"([^\"]*)\" width=\"[^\"]*\" height=\"([^\"]*)\"");
  std::vector<std::pair<double, double>> bars;
  for (std::sregex_iterator it(svg.begin(), svg.end(), bar), end; it != end; ++it)
    bars.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_NEAR(bars[0].second, bars[1].second, 0.02);             // equal magnitudes
  EXPECT_NEAR(bars[0].first, bars[1].first + bars[1].second, 0.02);  // both touch zero
}

TEST(RenderBarSvg, ManyBarsThinTheLabelsAndEmptySaysNoData) {
  const std::string svg = render_bar_svg("", std::vector<double>(200, 0.1), "", "", 480, 260);
  EXPECT_EQ(count(svg, "class=\"bar\""), 200u);
  const auto labels = tick_values(svg, "xtick");
  ASSERT_GE(labels.size(), 2u);
  EXPECT_LT(labels.size(), 40u);
  EXPECT_EQ(labels.front(), 0);
  EXPECT_NE(render_bar_svg("", {}, "", "").find(">no data<"), std::string::npos);
  expect_nice(tick_values(render_bar_svg("", {0, 0, 0}, "", ""), "ytick"));
}

/// The value of attribute `name` in each element `tag` of `svg`, in document order ("" where absent).
std::vector<std::string> attributes(const std::string& svg, const std::string& tag, const std::string& name) {
  const std::regex element("<" + tag + "\\b[^>]*>"), attribute(" " + name + "=\"([^\"]*)\"");
  std::vector<std::string> values;
  for (std::sregex_iterator it(svg.begin(), svg.end(), element), end; it != end; ++it) {
    std::smatch m;
    const std::string e = it->str();
    values.push_back(std::regex_search(e, m, attribute) ? m[1].str() : "");
  }
  return values;
}

TEST(RenderSvg, IsAnImageTitledWithItsAxesAndSeriesStyles) {
  const std::string svg = render_svg({"ELBO", "epoch", "nats", {{"train", {1, 2}, {1, 2}}, {"valid", {1, 2}, {2, 3}}}});
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"", 0), 0u);
  EXPECT_NE(svg.find("\">\n<title>ELBO: nats against epoch; train (blue solid line), valid (orange dashed line)</title>\n"),
            std::string::npos);
  EXPECT_EQ(count(svg, "<title>"), 1u);
  EXPECT_NE(render_svg({}).find("<title>Chart</title>"), std::string::npos);
  const std::string row = render_svg_row({{"a", "", "", {}}, {"b", "", "", {}}});
  EXPECT_NE(row.find("<title>2 charts. a. b</title>"), std::string::npos);
  EXPECT_NE(render_bar_svg("KL", {1, 2}, "dimension", "nats").find("role=\"img\""), std::string::npos);
  EXPECT_NE(render_bar_svg("KL", {1, 2}, "dimension", "nats").find("<title>KL: 2 bars of nats, by dimension</title>"),
            std::string::npos);
}

TEST(RenderSvg, SeriesDifferInMoreThanColour) {
  LinePlot lines{"", "", "", {}}, dots{"", "", "", {}};
  for (int k = 0; k < 5; ++k) lines.series.push_back({"l" + std::to_string(k), {0, 1}, {double(k), k + 1.0}});
  for (int k = 0; k < 6; ++k) dots.series.push_back({"d" + std::to_string(k), {0.0 + k}, {1.0}, true});
  const std::string svg = render_svg(lines);
  const auto dashes = attributes(svg, "polyline", "stroke-dasharray");
  ASSERT_EQ(dashes.size(), 5u);
  EXPECT_EQ(dashes[0], "");  // the first series solid, every other its own pattern
  EXPECT_EQ(std::set<std::string>(dashes.begin(), dashes.end()).size(), 5u);
  // The legend shows each line's pattern (after the grid lines, which have none).
  std::vector<std::string> legend = attributes(svg.substr(svg.find("class=\"legend\"")), "line", "stroke-dasharray");
  EXPECT_EQ(legend, dashes);
  // Scatters: one marker shape per series, in the plot and the legend alike.
  const std::string scatter = render_svg(dots);
  for (const char* shape : {"<circle", "<rect x", "<path d="}) EXPECT_NE(scatter.find(shape), std::string::npos) << shape;
  EXPECT_NE(scatter.find("d0 (blue circles)"), std::string::npos);
  EXPECT_NE(scatter.find("d5 (sky blue crosses)"), std::string::npos);
  // A band's legend entry is a swatch of its fill.
  const std::string band = render_svg({"", "", "", {{"90% band", {0, 1}, {2, 3}, false, {1, 2}}}});
  EXPECT_NE(band.find("width=\"16\" height=\"8\""), std::string::npos);
  EXPECT_NE(band.find("90% band (blue band)"), std::string::npos);
}

TEST(LineChart, TheNumbersDrawnBesideTheSvg) {
  const LinePlot plot{"Loss / step", "step", "nats", {{"train", {1, 2}, {5, kNan}}, {"", {}, {7}}}};
  const Chart chart = line_chart(plot);
  EXPECT_EQ(chart.svg, render_svg(plot));
  EXPECT_EQ(chart.file_name, "loss-step.csv");
  EXPECT_EQ(chart.columns, (std::vector<std::string>{"series", "step", "nats"}));
  EXPECT_EQ(chart.rows, (std::vector<std::vector<std::string>>{{"train", "1", "5"}, {"train", "2", ""}, {"series 2", "0", "7"}}));
  const Chart band = line_chart({"", "", "", {{"b", {0}, {2}, false, {1}}, {"m", {0}, {1.5}}}});
  EXPECT_EQ(band.file_name, "chart.csv");
  EXPECT_EQ(band.columns, (std::vector<std::string>{"series", "x", "y", "lower"}));
  EXPECT_EQ(band.rows, (std::vector<std::vector<std::string>>{{"b", "0", "2", "1"}, {"m", "0", "1.5", ""}}));
  const Chart row = line_chart_row({{"a", "", "", {{"s", {0}, {1}}}}, {"", "", "", {{"t", {2}, {3}}}}});
  EXPECT_EQ(row.columns, (std::vector<std::string>{"chart", "series", "x", "y"}));
  EXPECT_EQ(row.rows, (std::vector<std::vector<std::string>>{{"a", "s", "0", "1"}, {"chart 2", "t", "2", "3"}}));
}

TEST(BarChart, ValuesWithTheirNames) {
  const Chart chart = bar_chart("Inference gaps", {0.5, kNan}, "", "nats", {"approximation", "amortization"});
  EXPECT_EQ(chart.file_name, "inference-gaps.csv");
  EXPECT_EQ(chart.columns, (std::vector<std::string>{"bar", "name", "nats"}));
  EXPECT_EQ(chart.rows, (std::vector<std::vector<std::string>>{{"0", "approximation", "0.5"}, {"1", "amortization", ""}}));
  EXPECT_EQ(bar_chart("", {1}, "", "").columns, (std::vector<std::string>{"bar", "value"}));
  expect_throw_containing<std::invalid_argument>([] { bar_chart("g", {1, 2}, "", "", {"a"}); },
                                                 {"bar_chart", "'g'", "2 values", "1 names"});
}

TEST(HistogramSeries, StepOutlineOfDensities) {
  // Bins [0, .25) [.25, .5) [.5, .75) [.75, 1] hold 1, 0, 2, 1 of the 5 finite values (1 falls in the last bin,
  // 1.5 in none, NaN is left out): densities count / (5 * 0.25) = 0.8, 0, 1.6, 0.8, integrating to 4/5.
  const Series s = histogram_series("h", {0.1, 0.6, 0.7, 1.0, 1.5, std::nan("")}, 0, 1, 4);
  EXPECT_EQ(s.label, "h");
  EXPECT_EQ(s.x, (std::vector<double>{0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1}));
  const std::vector<double> y = {0, 0.8, 0.8, 0, 0, 1.6, 1.6, 0.8, 0.8, 0};
  ASSERT_EQ(s.y.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(s.y[i], y[i], 1e-12) << i;
  expect_throw_containing<std::invalid_argument>([] { histogram_series("", {}, 1, 1, 4); }, {"histogram_series", "finite lo < hi"});
}

}  // namespace
}  // namespace elbo::report
