#include "elbo/report/html.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace elbo::report {
namespace {

constexpr const char* kCss =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
    "h1{font-size:1.6em;margin:0 0 .6em}"
    "h2{font-size:1.25em;margin:1.8em 0 .6em;padding-bottom:.2em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.6em 0}"
    "th,td{border:1px solid #ddd;padding:.3em .7em;text-align:left;vertical-align:top}"
    "th{background:#f6f6f6;font-weight:600}"
    "td{font-variant-numeric:tabular-nums}"
    ".figures{display:flex;flex-wrap:wrap;gap:1.2em}"
    "figure{margin:.6em 0}"
    "figure img{image-rendering:pixelated;max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.9em;color:#555;margin-top:.3em}"
    "figure.chart{margin:.6em 0}"
    "figure.chart svg{max-width:100%;height:auto}"
    "details{font-size:.9em;margin-top:.2em}"
    "details table{margin:.3em 0}";

uint32_t big_endian_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// An <img> embedding the PNG at `path`; small images are shown enlarged (crisp pixels).
std::string embedded_png(const Figure& figure) {
  constexpr const char* fn = "elbo::report::write_html_report";
  const std::string& caption = figure.caption;
  const std::string& path = figure.path;
  ELBO_CHECK(!figure.alt.empty() && figure.alt != caption, fn, ": image '", caption, "' (", path,
             ") needs alt text that says what it shows, other than its caption");
  std::string png;
  try {
    png = read_file(path);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(fn) + ": image '" + caption + "': " + e.what());
  }
  static const std::string signature("\x89PNG\r\n\x1a\n", 8);
  ELBO_CHECK(png.size() >= 24 && png.compare(0, 8, signature) == 0 && png.compare(12, 4, "IHDR") == 0,
             fn, ": '", path, "' is not a PNG file");
  const uint32_t width = big_endian_u32(png, 16), height = big_endian_u32(png, 20);
  const uint32_t scale = width == 0 ? 1 : std::clamp<uint32_t>(480 / width, 1, 4);
  return "<figure><img width=\"" + std::to_string(width * scale) + "\" height=\"" +
         std::to_string(height * scale) + "\" alt=\"" + html_escape(figure.alt) +
         "\" src=\"data:image/png;base64," + base64(png) + "\"><figcaption>" + html_escape(caption) +
         "</figcaption></figure>\n";
}

/// An SVG document for inline use (an XML declaration is not allowed inside HTML).
std::string inline_svg(const std::string& svg) {
  if (svg.compare(0, 5, "<?xml") == 0) {
    const size_t end = svg.find("?>");
    const size_t start = end == std::string::npos ? end : svg.find_first_not_of(" \t\r\n", end + 2);
    return start == std::string::npos ? std::string() : svg.substr(start);
  }
  return svg;
}

/// A field of a CSV row, quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// A chart, then its numbers: a CSV link (a data URI: the page stays self-contained) and, for
/// small charts, the same numbers as a table folded under it.
std::string chart_html(const Chart& chart) {
  std::string html = "<figure class=\"chart\">\n" + inline_svg(chart.svg) + "<figcaption>The numbers: <a download=\"" +
                     html_escape(chart.file_name) + "\" href=\"data:text/csv;charset=utf-8;base64," +
                     base64(chart_csv(chart)) + "\">" + html_escape(chart.file_name) + "</a> (" +
                     std::to_string(chart.rows.size()) + " rows)</figcaption>\n";
  if (!chart.rows.empty() && chart.rows.size() <= kChartTableRows) {
    html += "<details><summary>Table of the numbers</summary>\n<table>\n<thead><tr>";
    for (const std::string& c : chart.columns) html += "<th scope=\"col\">" + html_escape(c) + "</th>";
    html += "</tr></thead>\n<tbody>\n";
    for (const auto& row : chart.rows) {
      html += "<tr>";
      for (const std::string& v : row) html += "<td>" + html_escape(v) + "</td>";
      html += "</tr>\n";
    }
    html += "</tbody>\n</table>\n</details>\n";
  }
  return html + "</figure>\n";
}

}  // namespace

std::string chart_csv(const Chart& chart) {
  std::string out;
  const auto line = [&](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
    out += "\n";
  };
  line(chart.columns);
  for (const auto& row : chart.rows) line(row);
  return out;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    const uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<Section>& sections) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                     html_escape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n<h1>" +
                     html_escape(title) + "</h1>\n";
  for (const Section& s : sections) {
    html += "<section>\n";
    if (!s.heading.empty()) html += "<h2>" + html_escape(s.heading) + "</h2>\n";
    if (!s.text.empty()) html += "<p>" + html_escape(s.text) + "</p>\n";
    if (!s.table.empty()) {
      html += "<table>\n";
      for (const auto& [key, value] : s.table)
        html += "<tr><th>" + html_escape(key) + "</th><td>" + html_escape(value) + "</td></tr>\n";
      html += "</table>\n";
    }
    if (!s.figures.empty()) {
      html += "<div class=\"figures\">\n";
      for (const Figure& figure : s.figures) html += embedded_png(figure);
      html += "</div>\n";
    }
    for (const Chart& chart : s.charts) html += chart_html(chart);
    html += "</section>\n";
  }
  html += "</main>\n</body>\n</html>\n";
  write_file_atomic(path, html);
}

}  // namespace elbo::report
