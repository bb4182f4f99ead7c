#pragma once
#include <string>
#include <utility>
#include <vector>

namespace elbo::report {

/// A picture of a report: a PNG embedded as a data URI.
struct Figure {
  std::string caption;  ///< shown under the picture: what it is
  std::string path;     ///< the PNG file
  std::string alt;      ///< what it shows, for readers who cannot see it; required, and not the caption again
};

/// A chart of a report: an SVG document (render_svg and its kin give it role="img" and a <title>)
/// and the numbers it draws, shown beside it as a table (up to kChartTableRows rows) and always
/// as a CSV link (a data URI, so the page stays self-contained).
struct Chart {
  std::string svg;
  std::vector<std::string> columns;              ///< column names of the numbers
  std::vector<std::vector<std::string>> rows;    ///< one entry per column in each row
  std::string file_name = "chart.csv";           ///< the CSV link's download name
};

/// Charts with at most this many rows of numbers also show them as a table.
constexpr size_t kChartTableRows = 40;

/// One section of a report: a heading followed by any of a table, pictures and charts.
struct Section {
  std::string heading;
  std::string text;                                           ///< paragraph (escaped)
  std::vector<std::pair<std::string, std::string>> table;     ///< key/value rows
  std::vector<Figure> figures;                                ///< PNG pictures (embedded as base64)
  std::vector<Chart> charts;                                  ///< inline SVG charts with their numbers
};

/// A self-contained HTML page: images are embedded as data URIs, so the file
/// can be mailed or opened anywhere. Written atomically; errors name the path
/// (std::invalid_argument for a PNG that cannot be read or a figure without alt
/// text, std::runtime_error when `path` cannot be written).
void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<Section>& sections);

/// The chart's numbers as CSV (RFC 4180: a header row, fields with commas, quotes or
/// line breaks quoted).
std::string chart_csv(const Chart& chart);

/// Base64 (RFC 4648) of bytes.
std::string base64(const std::string& bytes);

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace elbo::report
