#include "elbo/report/html.h"

#include "elbo/core/atomic_file.h"
#include "elbo/report/image_grid.h"
#include "elbo/report/plot.h"
#include "report/test_util.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace elbo::report {
namespace {

using testing::count;
using testing::expect_throw_containing;

TEST(Base64, Rfc4648TestVectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(Base64, BinaryBytes) {
  EXPECT_EQ(base64(std::string("\x00\xff\xfe", 3)), "AP/+");
  EXPECT_EQ(base64(std::string("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(base64(std::string(1, '\0')), "AA==");
}

TEST(HtmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\">Tom & Jerry's</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain text, \xc3\xa9t\xc3\xa9"), "plain text, \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(html_escape(""), "");
}

class HtmlReport : public ::testing::Test {
 protected:
  testing::TempDir dir;
};

TEST_F(HtmlReport, EmbedsImagesSvgsAndTables) {
  const std::string png_path = dir.file("samples.png");
  write_image_grid(png_path, torch::rand({8, 3 * 4 * 4}), ImageShape{3, 4, 4}, 4);
  const Chart curve = line_chart({"ELBO", "epoch", "nats", {{"train", {}, {-3, -2, -1.5}}}});
  const Chart bars = bar_chart("KL per dimension", {0.1, 2, 0.5}, "dimension", "nats");
  const std::string path = dir.file("report.html");
  write_html_report(path, "Run <mnist> & co",
                    {{"Summary", "Trained for 3 epochs; \"beta\" < 1.", {{"beta", "0.5"}, {"model", "vae<gaussian>"}}, {}, {}},
                     {"Samples", "", {}, {{"samples & means", png_path, "8 colour pictures in 2 rows of 4"}}, {}},
                     {"Curves", "", {}, {}, {curve, bars}}});

  const std::string html = read_file(path);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("<title>Run &lt;mnist&gt; &amp; co</title>"), std::string::npos);
  EXPECT_NE(html.find("<h1>Run &lt;mnist&gt; &amp; co</h1>"), std::string::npos);
  for (const char* heading : {"<h2>Summary</h2>", "<h2>Samples</h2>", "<h2>Curves</h2>"})
    EXPECT_NE(html.find(heading), std::string::npos) << heading;
  EXPECT_EQ(count(html, "<section>"), 3u);
  EXPECT_EQ(count(html, "</section>"), 3u);
  EXPECT_NE(html.find("<p>Trained for 3 epochs; &quot;beta&quot; &lt; 1.</p>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>beta</th><td>0.5</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<td>vae&lt;gaussian&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64," + base64(read_file(png_path)) + "\""), std::string::npos);
  EXPECT_NE(html.find("<figcaption>samples &amp; means</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("alt=\"8 colour pictures in 2 rows of 4\""), std::string::npos);
  EXPECT_NE(html.find("<main>\n<h1>"), std::string::npos);  // one main landmark holds the page
  EXPECT_NE(html.find("</main>\n</body>"), std::string::npos);
  // Each chart in a figure with its numbers: a CSV link (data URI) and, being small, a table.
  for (const Chart* chart : {&curve, &bars}) {
    EXPECT_NE(html.find("<figure class=\"chart\">\n" + chart->svg), std::string::npos);
    EXPECT_NE(html.find("<a download=\"" + chart->file_name + "\" href=\"data:text/csv;charset=utf-8;base64," +
                        base64(chart_csv(*chart)) + "\">"),
              std::string::npos)
        << chart->file_name;
  }
  EXPECT_EQ(curve.file_name, "elbo.csv");
  EXPECT_EQ(chart_csv(curve), "series,epoch,nats\ntrain,0,-3\ntrain,1,-2\ntrain,2,-1.5\n");
  EXPECT_EQ(count(html, "<details><summary>Table of the numbers</summary>"), 2u);
  EXPECT_NE(html.find("<thead><tr><th scope=\"col\">bar</th><th scope=\"col\">nats</th></tr></thead>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>1</td><td>2</td></tr>"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 2u);
  EXPECT_EQ(count(html, "</svg>"), 2u);
  EXPECT_NE(html.find("max-width:1100px"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external resources
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"report.html", "samples.png"}));
}

TEST_F(HtmlReport, SmallImagesAreShownEnlarged) {
  const std::string png_path = dir.file("tiny.png");
  write_image_grid(png_path, torch::rand({4, 28 * 28}), ImageShape{1, 28, 28}, 2, 2);  // 62x62
  write_html_report(dir.file("r.html"), "t", {{"", "", {}, {{"tiny", png_path, "four pictures"}}, {}}});
  EXPECT_NE(read_file(dir.file("r.html")).find("<img width=\"248\" height=\"248\""), std::string::npos);
}

TEST_F(HtmlReport, XmlDeclarationOfAnSvgIsDropped) {
  write_html_report(dir.file("r.html"), "t", {{"", "", {}, {}, {{"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"></svg>"}}}});
  const std::string html = read_file(dir.file("r.html"));
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  EXPECT_NE(html.find("<svg xmlns=\"x\"></svg>"), std::string::npos);
}

TEST_F(HtmlReport, MissingOrInvalidImageNamesThePathAndWritesNothing) {
  const std::string missing = dir.file("missing.png");
  const std::string path = dir.file("report.html");
  expect_throw_containing<std::invalid_argument>(
      [&] { write_html_report(path, "t", {{"s", "", {}, {{"samples", missing, "grid"}}, {}}}); },
      {"write_html_report", missing});
  const std::string not_png = dir.file("plot.svg");
  write_file_atomic(not_png, render_svg({}));
  expect_throw_containing<std::invalid_argument>(
      [&] { write_html_report(path, "t", {{"s", "", {}, {{"plot", not_png, "grid"}}, {}}}); },
      {"write_html_report", not_png, "not a PNG"});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"plot.svg"});
}

TEST_F(HtmlReport, FiguresNeedAltTextOtherThanTheirCaption) {
  const std::string png_path = dir.file("p.png");
  write_image_grid(png_path, torch::rand({1, 16}), ImageShape{1, 4, 4}, 1);
  for (const std::string alt : {"", "p.png"})
    expect_throw_containing<std::invalid_argument>(
        [&] { write_html_report(dir.file("r.html"), "t", {{"s", "", {}, {{"p.png", png_path, alt}}, {}}}); },
        {"write_html_report", "'p.png'", "alt text"});
}

TEST_F(HtmlReport, LargeChartsLinkTheirNumbersWithoutATable) {
  Chart chart = bar_chart("many", std::vector<double>(kChartTableRows + 1, 1.0), "", "");
  write_html_report(dir.file("r.html"), "t", {{"s", "", {}, {}, {chart}}});
  const std::string html = read_file(dir.file("r.html"));
  EXPECT_NE(html.find("download=\"many.csv\""), std::string::npos);
  EXPECT_NE(html.find("(" + std::to_string(kChartTableRows + 1) + " rows)"), std::string::npos);
  EXPECT_EQ(html.find("<details>"), std::string::npos);
}

TEST(ChartCsv, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  const Chart chart{"", {"name", "value"}, {{"a, b", "1"}, {"say \"x\"", "2"}, {"two\nlines", ""}}};
  EXPECT_EQ(chart_csv(chart), "name,value\n\"a, b\",1\n\"say \"\"x\"\"\",2\n\"two\nlines\",\n");
}

TEST(HtmlReportErrors, UnwritableDirectoryNamesThePath) {
  const std::string path = "/nonexistent-elbo-report-dir/sub/report.html";
  expect_throw_containing<std::runtime_error>([&] { write_html_report(path, "t", {}); }, {path});
}

}  // namespace
}  // namespace elbo::report
