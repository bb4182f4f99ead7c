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
    ".plot{overflow-x:auto;margin:.6em 0}";

uint32_t big_endian_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// An <img> embedding the PNG at `path`; small images are shown enlarged (crisp pixels).
std::string embedded_png(const std::string& caption, const std::string& path) {
  constexpr const char* fn = "elbo::report::write_html_report";
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
         std::to_string(height * scale) + "\" alt=\"" + html_escape(caption) +
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

}  // namespace

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
                     html_escape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<h1>" +
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
    if (!s.png_files.empty()) {
      html += "<div class=\"figures\">\n";
      for (const auto& [caption, png_path] : s.png_files) html += embedded_png(caption, png_path);
      html += "</div>\n";
    }
    for (const std::string& svg : s.svgs) html += "<div class=\"plot\">\n" + inline_svg(svg) + "</div>\n";
    html += "</section>\n";
  }
  html += "</body>\n</html>\n";
  write_file_atomic(path, html);
}

}  // namespace elbo::report
