#include "elbo/data/fasta.h"

#include "elbo/core/check.h"
#include "gzip_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <random>

namespace elbo::data {
namespace {

constexpr char kSkip = 1;  ///< kCode: whitespace inside a sequence line
constexpr const char* kIupac = "ACGTUNRYKMSWBDHV-";

/// What each byte of a sequence line stands for: the upper-case code (U as T), kSkip, or 0 (invalid).
const std::array<char, 256>& codes() {
  static const std::array<char, 256> table = [] {
    std::array<char, 256> t{};
    for (const char* p = kIupac; *p; ++p) {
      const char code = *p == 'U' ? 'T' : *p;
      t[static_cast<unsigned char>(*p)] = code;
      t[static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(*p)))] = code;
    }
    for (char c : {' ', '\t', '\r', '\v', '\f'}) t[static_cast<unsigned char>(c)] = kSkip;
    return t;
  }();
  return table;
}

bool blank(char c) { return codes()[static_cast<unsigned char>(c)] == kSkip; }

/// A byte as a message shows it: 'X', or '\xHH' when not printable.
std::string shown(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", static_cast<unsigned char>(c));
  return buf;
}

/// The start of a line for a message: at most 40 bytes, unprintable ones escaped.
std::string excerpt(const char* begin, const char* end) {
  std::string out;
  for (const char* p = begin; p < std::min(end, begin + 40); ++p)
    out += *p >= 0x20 && *p < 0x7f ? std::string(1, *p) : shown(*p).substr(1, 4);
  return end - begin > 40 ? out + "..." : out;
}

/// Parses FASTA text line by line as it arrives in chunks.
class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {}

  void feed(const char* p, const char* end) {
    while (p < end) {
      const auto* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (!newline) {
        carry_.append(p, end);
        return;
      }
      if (carry_.empty()) {
        line(p, newline);
      } else {
        carry_.append(p, newline);
        line(carry_.data(), carry_.data() + carry_.size());
        carry_.clear();
      }
      p = newline + 1;
    }
  }

  std::vector<FastaRecord> finish() {
    if (!carry_.empty()) line(carry_.data(), carry_.data() + carry_.size());
    ELBO_CHECK(!records_.empty(), path_, ": no FASTA records (", line_ == 0 ? "empty file" : "only blank lines",
               "); expected '>NAME' header lines, each followed by its sequence");
    check_not_empty(records_.back());
    return std::move(records_);
  }

 private:
  void check_not_empty(const FastaRecord& r) const {
    ELBO_CHECK(!r.sequence.empty(), path_, ":", r.line, ": record '", r.name, "' is empty (a header with no sequence)");
  }

  void line(const char* begin, const char* end) {
    ++line_;
    if (begin < end && *begin == '>') {
      if (!records_.empty()) check_not_empty(records_.back());
      const char* name = begin + 1;
      while (name < end && blank(*name)) ++name;
      const char* name_end = name;
      while (name_end < end && !blank(*name_end)) ++name_end;
      ELBO_CHECK(name < name_end, path_, ":", line_, ": header line with no name after '>'");
      records_.push_back({std::string(name, name_end), std::string(), line_});
      return;
    }
    const std::array<char, 256>& code = codes();
    if (records_.empty()) {
      const char* first = begin;
      while (first < end && blank(*first)) ++first;
      ELBO_CHECK(first == end, path_, ":", line_, ": expected a '>' header line, got '", excerpt(begin, end), "'");
      return;
    }
    FastaRecord& r = records_.back();
    for (const char* p = begin; p < end; ++p) {
      const char c = code[static_cast<unsigned char>(*p)];
      if (c > kSkip) r.sequence.push_back(c);
      else if (c == 0)
        ELBO_CHECK(false, path_, ":", line_, ": record '", r.name, "': character ", shown(*p), " (column ", p - begin + 1,
                   ") is not an IUPAC nucleotide code (", kIupac, ")");
    }
  }

  std::string path_;
  std::string carry_;  ///< the start of a line cut by the end of a chunk
  std::vector<FastaRecord> records_;
  int64_t line_ = 0;
};

}  // namespace

std::vector<FastaRecord> read_fasta(const std::string& path) {
  GzipReader in(path, "FASTA file");
  Parser parser(path);
  std::vector<char> chunk(1 << 20);
  for (uint64_t got; (got = in.read(chunk.data(), chunk.size())) > 0;) parser.feed(chunk.data(), chunk.data() + got);
  return parser.finish();
}

int base_index(char base) {
  switch (base) {
    case 'A': case 'a': return 0;
    case 'C': case 'c': return 1;
    case 'G': case 'g': return 2;
    case 'T': case 't': case 'U': case 'u': return 3;
    default: return -1;
  }
}

char complement(char base) {
  static constexpr const char* from = "ACGTURYKMSWBDHVN-";
  static constexpr const char* to = "TGCAAYRMKSWVHDBN-";
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(base)));
  const char* at = std::strchr(from, upper);
  return upper != '\0' && at ? to[at - from] : base;
}

Dataset sequence_windows(const std::vector<FastaRecord>& records, const WindowOptions& o, const std::string& name) {
  ELBO_CHECK(o.window >= 1 && o.stride >= 1, name, ": data.window and data.stride must be >= 1 (got ", o.window, ", ",
             o.stride, ")");
  // Calls visit(record, start) for each window kept, in file order.
  auto each_window = [&](auto&& visit) {
    std::vector<int64_t> ambiguous;  // positions of ambiguous bases in the record (drop_ambiguous)
    for (const FastaRecord& r : records) {
      const auto length = static_cast<int64_t>(r.sequence.size());
      ambiguous.clear();
      if (o.drop_ambiguous)
        for (int64_t i = 0; i < length; ++i)
          if (base_index(r.sequence[i]) < 0) ambiguous.push_back(i);
      size_t next = 0;  // the first ambiguous position >= start
      for (int64_t start = 0; start + o.window <= length; start += o.stride) {
        while (next < ambiguous.size() && ambiguous[next] < start) ++next;
        if (next == ambiguous.size() || ambiguous[next] >= start + o.window) visit(r, start);
      }
    }
  };
  int64_t n = 0;
  each_window([&](const FastaRecord&, int64_t) { ++n; });
  if (n == 0) {
    ELBO_CHECK(!records.empty(), name, ": no sequences to cut into windows");
    const auto longest = std::max_element(records.begin(), records.end(), [](const auto& a, const auto& b) {
      return a.sequence.size() < b.sequence.size();
    });
    ELBO_CHECK(static_cast<int64_t>(longest->sequence.size()) >= o.window, "data.window = ", o.window,
               " is longer than every sequence of ", name, " (longest: '", longest->name, "', ",
               longest->sequence.size(), " bases)");
    ELBO_CHECK(false, name, ": every window of data.window = ", o.window, " bases holds an ambiguous base (N or another "
               "IUPAC code); data.ambiguous = \"mask\" keeps such windows with those bases masked");
  }
  Dataset d;
  d.x = torch::empty({n, o.window}, torch::kFloat32);
  float* x = d.x.data_ptr<float>();
  float* mask = nullptr;  // allocated at the first masked base
  std::array<int8_t, 256> index{};
  for (int c = 0; c < 256; ++c) index[c] = static_cast<int8_t>(base_index(static_cast<char>(c)));
  int64_t row = 0;
  each_window([&](const FastaRecord& r, int64_t start) {
    const char* bases = r.sequence.data() + start;
    float* out = x + row * o.window;
    for (int64_t j = 0; j < o.window; ++j) {
      const int k = index[static_cast<unsigned char>(bases[j])];
      out[j] = static_cast<float>(std::max(k, 0));
      if (k < 0) {
        if (!mask) {
          d.mask = torch::ones({n, o.window}, torch::kFloat32);
          mask = d.mask.data_ptr<float>();
        }
        mask[row * o.window + j] = 0;
      }
    }
    ++row;
  });
  d.alphabet = kDnaAlphabet;
  d.name = name;
  return d;
}

Dataset reverse_complements(const Dataset& windows) {
  ELBO_CHECK(windows.alphabet == kDnaAlphabet && windows.x.defined() && windows.x.dim() == 2,
             "elbo::data::reverse_complements: '", windows.name, "' holds no DNA windows (alphabet \"",
             windows.alphabet, "\", expected \"", kDnaAlphabet, "\")");
  // One pass over float rows (LibTorch's flip took ~5 s for dm3's 500k windows of 200 bases).
  const torch::Device device = windows.x.device();
  auto doubled = [&](const torch::Tensor& t) {  // [2N, W]: the rows, then room for their reverse complements
    torch::Tensor d = torch::empty({2 * t.size(0), t.size(1)}, torch::kFloat32);
    d.slice(0, 0, t.size(0)).copy_(t);
    return d;
  };
  Dataset out = windows;
  out.x = doubled(windows.x);
  if (windows.mask.defined()) out.mask = doubled(windows.mask);
  if (windows.hidden.defined()) out.hidden = doubled(windows.hidden);
  const int64_t n = windows.size(), w = windows.features();
  float* x = out.x.data_ptr<float>();
  float* mask = out.mask.defined() ? out.mask.data_ptr<float>() : nullptr;
  float* hidden = out.hidden.defined() ? out.hidden.data_ptr<float>() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t from = i * w, to = (n + i) * w;
    for (int64_t j = 0; j < w; ++j) {
      const int64_t k = from + w - 1 - j;
      const bool seen = !mask || mask[k] > 0 || (hidden && hidden[k] > 0);  // masked bases stay x = 0
      x[to + j] = seen ? 3 - x[k] : 0;
      if (mask) mask[to + j] = mask[k];
      if (hidden) hidden[to + j] = hidden[k];
    }
  }
  for (torch::Tensor* t : {&out.x, &out.mask, &out.hidden})
    if (t->defined()) *t = t->to(device);
  for (auto [to, from] : {std::pair{&out.y, &windows.y}, std::pair{&out.y_mask, &windows.y_mask},
                          std::pair{&out.target, &windows.target}, std::pair{&out.factors, &windows.factors}})
    if (from->defined()) *to = torch::cat({*from, *from});
  return out;
}

SequenceSplit split_records(std::vector<FastaRecord> records, double test_fraction, uint64_t seed) {
  const auto n = static_cast<int64_t>(records.size());
  ELBO_CHECK(n >= 2, "elbo::data::split_records: ", n, " record", n == 1 ? " ('" + records[0].name + "')" : "s",
             " cannot be split into training and test sequences; give the test sequences their own file (data.test)");
  const int64_t held =
      std::clamp<int64_t>(static_cast<int64_t>(test_fraction * static_cast<double>(n)), 1, n - 1);
  // The last `held` steps of a Fisher-Yates shuffle draw the test records uniformly.
  std::mt19937_64 draw(seed);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::vector<bool> test(n, false);
  for (int64_t k = 0; k < held; ++k) {
    const int64_t i = n - 1 - k, j = static_cast<int64_t>(draw() % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
    test[order[i]] = true;
  }
  SequenceSplit split;
  for (int64_t i = 0; i < n; ++i) (test[i] ? split.test : split.train).push_back(std::move(records[i]));
  return split;
}

std::string bases(const torch::Tensor& window) {
  ELBO_CHECK(window.dim() == 1, "data::bases: a window must be [L] base indices (got ", window.sizes(), ")");
  const torch::Tensor x = window.to(torch::kLong).contiguous();
  const int64_t* v = x.data_ptr<int64_t>();
  std::string out(static_cast<size_t>(x.numel()), 'N');
  for (int64_t i = 0; i < x.numel(); ++i) {
    ELBO_CHECK(v[i] >= 0 && v[i] < 4, "data::bases: base index ", v[i], " at position ", i + 1, " is outside 0..3 (ACGT)");
    out[static_cast<size_t>(i)] = kDnaAlphabet[v[i]];
  }
  return out;
}

std::vector<FastaRecord> fasta_records(const torch::Tensor& windows, const std::string& prefix) {
  ELBO_CHECK(windows.dim() == 2, "data::fasta_records: windows must be [N, L] base indices (got ", windows.sizes(), ")");
  std::vector<FastaRecord> records;
  for (int64_t i = 0; i < windows.size(0); ++i) records.push_back({prefix + std::to_string(i + 1), bases(windows[i])});
  return records;
}

std::string format_fasta(const std::vector<FastaRecord>& records, int64_t width) {
  ELBO_CHECK(width >= 1, "data::format_fasta: width must be >= 1 (got ", width, ")");
  std::string out;
  for (const auto& r : records) {
    out += ">" + r.name + "\n";
    for (size_t i = 0; i < r.sequence.size(); i += static_cast<size_t>(width))
      out += r.sequence.substr(i, static_cast<size_t>(width)) + "\n";
  }
  return out;
}

}  // namespace elbo::data
