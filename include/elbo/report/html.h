#pragma once
#include <string>
#include <utility>
#include <vector>

namespace elbo::report {

/// One section of a report: a heading followed by any of a table, images and inline SVG.
struct Section {
  std::string heading;
  std::string text;                                           ///< paragraph (escaped)
  std::vector<std::pair<std::string, std::string>> table;     ///< key/value rows
  std::vector<std::pair<std::string, std::string>> png_files; ///< caption, path to a PNG (embedded as base64)
  std::vector<std::string> svgs;                              ///< inline SVG documents
};

/// A self-contained HTML page: images are embedded as data URIs, so the file
/// can be mailed or opened anywhere. Written atomically; errors name the path
/// (std::invalid_argument for a PNG that cannot be read, std::runtime_error
/// when `path` cannot be written).
void write_html_report(const std::string& path, const std::string& title,
                       const std::vector<Section>& sections);

/// Base64 (RFC 4648) of bytes.
std::string base64(const std::string& bytes);

/// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace elbo::report
