#include "elbo/train/archive_check.h"

#include "elbo/core/check.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace elbo::train {
namespace {

constexpr uint32_t kEnd = 0x06054b50, kEnd64 = 0x06064b50, kLocator64 = 0x07064b50, kCentral = 0x02014b50,
                   kLocal = 0x04034b50;
constexpr uint32_t kMarker32 = 0xFFFFFFFF;  // "see the ZIP64 extra field"

/// Little-endian reads at checked offsets.
class Bytes {
 public:
  Bytes(const std::string& b, const std::string& path) : b_(b), path_(path) {}
  uint64_t size() const { return b_.size(); }
  bool fits(uint64_t at, uint64_t n) const { return at <= size() && n <= size() - at; }
  uint64_t le(uint64_t at, int n) const {
    ELBO_CHECK(fits(at, static_cast<uint64_t>(n)), "checkpoint '", path_, "' is not a valid archive: a header at byte ",
               at, " runs past the end of the file (", size(), " bytes)");
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b_[at + static_cast<uint64_t>(i)]);
    return v;
  }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(le(at, 4)); }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(le(at, 2)); }
  uint64_t u64(uint64_t at) const { return le(at, 8); }
  std::string text(uint64_t at, uint64_t n) const { return fits(at, n) ? b_.substr(at, n) : std::string("?"); }

 private:
  const std::string& b_;
  const std::string& path_;
};

/// Bytes per element of a torch storage class ("torch\nFloatStorage\n"), 0 if unknown.
uint64_t element_size(const std::string& global) {
  static const std::vector<std::pair<std::string, uint64_t>> sizes = {
      {"torch\nFloatStorage", 4}, {"torch\nDoubleStorage", 8}, {"torch\nHalfStorage", 2}, {"torch\nBFloat16Storage", 2},
      {"torch\nLongStorage", 8}, {"torch\nIntStorage", 4}, {"torch\nShortStorage", 2}, {"torch\nCharStorage", 1},
      {"torch\nByteStorage", 1}, {"torch\nBoolStorage", 1}, {"torch\nComplexFloatStorage", 8},
      {"torch\nComplexDoubleStorage", 16}};
  for (const auto& [name, size] : sizes)
    if (name == global) return size;
  return 0;
}

/// The classes and functions a checkpoint's pickles name: the module, tensors and their storages,
/// and the debug record's int lists. Any other (another __torch__ class above all: LibTorch would
/// compile its TorchScript source from the archive to build it) is refused.
bool known_global(const std::string& global) {
  return global == "__torch__\nModule" || global == "torch._utils\n_rebuild_tensor_v2" ||
         global == "collections\nOrderedDict" || global == "torch.jit._pickle\nbuild_intlist" || element_size(global) > 0;
}

/// Inflates a raw deflate stream of `size` bytes at `begin` that claims `expected` bytes; "" with
/// `problem` set when it is not one.
std::string inflated(const std::string& b, uint64_t begin, uint64_t size, uint64_t expected, std::string& problem) {
  if (expected > (uint64_t{16} << 20)) {
    problem = "it claims " + std::to_string(expected) + " bytes of source (a checkpoint's take kilobytes)";
    return {};
  }
  std::string out(expected, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
    problem = "zlib could not start";
    return {};
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + begin));
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(expected);
  const int status = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (status != Z_STREAM_END || produced != expected)
    problem = "its deflate stream does not inflate to the " + std::to_string(expected) + " bytes it claims";
  return out;
}

/// What is wrong with the TorchScript source of a checkpoint's module (code/__torch__.py), or "".
/// LibTorch compiles it while reading the archive, so only what torch::save writes for a module
/// of named tensor buffers passes: "class Module(Module):", then lines
///   __parameters__ = [NAMES]   __buffers__ = [NAMES]   __annotations__ = []
///   __annotations__["NAME"] = Tensor   IDENTIFIER : Tensor
/// (indented two spaces; NAMES: "NAME", repeated, no quote or backslash inside a name).
std::string code_problem(const std::string& code) {
  auto quoted = [](const std::string& t, size_t& i) {
    if (i >= t.size() || t[i] != '"') return false;
    for (++i; i < t.size() && t[i] != '"'; ++i)
      if (t[i] == '\\' || t[i] == '\n') return false;
    return i++ < t.size();
  };
  auto names = [&](const std::string& t, size_t i) {  // "[" ("NAME", )* "]" to the end
    if (t.compare(i, 1, "[") != 0) return false;
    for (++i; i < t.size() && t[i] != ']'; i += 2)
      if (!quoted(t, i) || t.compare(i, 2, ", ") != 0) return false;
    return i + 1 == t.size();
  };
  auto identifier = [](const std::string& t) {
    if (t.empty() || !(std::isalpha(static_cast<unsigned char>(t[0])) || t[0] == '_')) return false;
    for (char c : t)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
  };
  size_t start = 0, number = 0;
  while (start < code.size()) {
    size_t stop = code.find('\n', start);
    if (stop == std::string::npos) stop = code.size();
    const std::string line = code.substr(start, stop - start);
    start = stop + 1;
    ++number;
    bool ok = line.empty();
    if (number == 1) {
      ok = line == "class Module(Module):";
    } else if (!ok && line.compare(0, 2, "  ") == 0) {
      const std::string t = line.substr(2);
      size_t i = 16;  // after __annotations__[
      const std::string type = " : Tensor";
      ok = (t.compare(0, 17, "__parameters__ = ") == 0 && names(t, 17)) ||
           (t.compare(0, 14, "__buffers__ = ") == 0 && names(t, 14)) || t == "__annotations__ = []" ||
           (t.compare(0, 16, "__annotations__[") == 0 && quoted(t, i) && t.substr(i) == "] = Tensor") ||
           (t.size() > type.size() && t.compare(t.size() - type.size(), type.size(), type) == 0 &&
            identifier(t.substr(0, t.size() - type.size())));
    }
    if (!ok) return "line " + std::to_string(number) + " is not TorchScript that torch::save writes for a checkpoint";
  }
  return number == 0 ? "it is empty" : "";
}

/// A value on the pickle machine's stack, as far as the check needs to know it.
struct Value {
  enum Kind { other, mark, integer, text, global, tuple } kind = other;
  uint64_t number = 0;
  std::string string;
  std::vector<Value> items;
};

/// Runs a pickle's opcodes (protocol 2 and the few of 3/4 torch may write) on a model of the
/// unpickler's stack and memo; returns what is wrong, or "". Checked: every argument lies inside
/// the record, every memo index is below the record's size and was stored, and every
/// persistent id ("storage", torch.XStorage, key, location, numel) names a record under
/// `prefix`data/ of at least numel x element-size bytes (LibTorch trusts numel and the record
/// alike: a shorter record would be read past its end).
std::string pickle_problem(const std::string& b, uint64_t begin, uint64_t size, const std::string& prefix,
                           const std::map<std::string, uint64_t>& records) {
  const uint64_t end = begin + size;
  auto le = [&](uint64_t at, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<uint64_t>(i)]);
    return v;
  };
  std::vector<Value> stack;
  std::map<uint64_t, Value> memo;
  auto pop = [&](Value& v) {
    if (stack.empty()) return false;
    v = std::move(stack.back());
    stack.pop_back();
    return true;
  };
  auto pop_to_mark = [&](std::vector<Value>& items) {
    while (!stack.empty() && stack.back().kind != Value::mark) {
      items.insert(items.begin(), std::move(stack.back()));
      stack.pop_back();
    }
    if (stack.empty()) return false;
    stack.pop_back();
    return true;
  };
  for (uint64_t at = begin; at < end;) {
    const unsigned char op = static_cast<unsigned char>(b[at]);
    const std::string where = "opcode " + std::to_string(op) + " at byte " + std::to_string(at - begin);
    ++at;
    auto take = [&](uint64_t n) {
      if (n > end - at) return false;
      at += n;
      return true;
    };
    Value v, w;
    std::vector<Value> items;
    switch (op) {
      case 0x80: if (!take(1)) return where + ": truncated"; break;  // PROTO
      case 0x95: if (!take(8)) return where + ": truncated"; break;  // FRAME
      case '.': return "";                                          // STOP
      case '(': stack.push_back({Value::mark}); break;
      case 'N': case 0x88: case 0x89: case ')': case ']': case '}': stack.push_back({}); break;
      case 'K': case 'M': case 'J': {
        const int n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
        if (!take(static_cast<uint64_t>(n))) return where + ": truncated";
        stack.push_back({Value::integer, le(at - static_cast<uint64_t>(n), n)});
        break;
      }
      case 'G': if (!take(8)) return where + ": truncated"; stack.push_back({}); break;
      case 0x8a: {  // LONG1: one length byte, then that many bytes
        if (!take(1)) return where + ": truncated";
        if (!take(le(at - 1, 1))) return where + ": truncated";
        stack.push_back({});
        break;
      }
      case 'U': case 'C': case 0x8c: case 'X': case 'B': case 'T': {
        const uint64_t n = op == 'U' || op == 'C' || op == 0x8c ? 1 : 4;
        if (!take(n)) return where + ": truncated";
        const uint64_t length = le(at - n, static_cast<int>(n));
        if (!take(length)) return where + ": a string of " + std::to_string(length) + " bytes past the end";
        stack.push_back({Value::text, 0, b.substr(at - length, length)});
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        const uint64_t first = b.find('\n', at);
        const uint64_t second = first == std::string::npos ? first : b.find('\n', first + 1);
        if (second == std::string::npos || second >= end) return where + ": an unterminated GLOBAL";
        const std::string global = b.substr(at, second - at);
        if (!known_global(global)) {
          std::string dotted = global;
          std::replace(dotted.begin(), dotted.end(), '\n', '.');
          return where + ": GLOBAL '" + dotted + "' is not one torch::save writes";
        }
        stack.push_back({Value::global, 0, global});
        at = second + 1;
        break;
      }
      case 'q': case 'r': case 0x94: {  // BINPUT, LONG_BINPUT, MEMOIZE
        uint64_t id = memo.size();
        if (op != 0x94) {
          const uint64_t n = op == 'q' ? 1 : 4;
          if (!take(n)) return where + ": truncated";
          id = le(at - n, static_cast<int>(n));
        }
        if (id >= size) return where + ": memo index " + std::to_string(id) + " exceeds the record";
        if (stack.empty()) return where + ": an empty stack";
        memo[id] = stack.back();
        break;
      }
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const uint64_t n = op == 'h' ? 1 : 4;
        if (!take(n)) return where + ": truncated";
        const auto found = memo.find(le(at - n, static_cast<int>(n)));
        if (found == memo.end()) return where + ": reads a memo entry never stored";
        stack.push_back(found->second);
        break;
      }
      case 't': if (!pop_to_mark(items)) return where + ": no mark"; stack.push_back({Value::tuple, 0, {}, items}); break;
      case 0x85: case 0x86: case 0x87: {
        for (int i = 0; i < op - 0x84; ++i) {
          if (!pop(v)) return where + ": an empty stack";
          items.insert(items.begin(), v);
        }
        stack.push_back({Value::tuple, 0, {}, items});
        break;
      }
      case 'l': case 'd': if (!pop_to_mark(items)) return where + ": no mark"; stack.push_back({}); break;
      case 'e': case 'u': case '1': if (!pop_to_mark(items)) return where + ": no mark"; break;  // APPENDS, SETITEMS, POP_MARK
      case 'a': case '0': case 'b': if (!pop(v)) return where + ": an empty stack"; break;       // APPEND, POP, BUILD
      case 's': if (!pop(v) || !pop(w)) return where + ": an empty stack"; break;               // SETITEM
      case 'R': case 0x81: if (!pop(v) || !pop(w)) return where + ": an empty stack"; stack.push_back({}); break;
      case '2': if (stack.empty()) return where + ": an empty stack"; stack.push_back(stack.back()); break;
      case 'Q': {  // BINPERSID: ("storage", torch.XStorage, key, location, numel)
        if (!pop(v)) return where + ": an empty stack";
        const auto& t = v.items;
        if (v.kind != Value::tuple || t.size() != 5 || t[0].kind != Value::text || t[0].string != "storage" ||
            t[1].kind != Value::global || t[2].kind != Value::text || t[4].kind != Value::integer)
          return where + ": a persistent id that is not a storage";
        const uint64_t bytes_per = element_size(t[1].string);
        if (bytes_per == 0) return where + ": unknown storage type '" + t[1].string + "'";
        const auto record = records.find(prefix + "data/" + t[2].string);
        if (record == records.end()) return where + ": storage '" + t[2].string + "' has no record";
        if (t[4].number > record->second / bytes_per)
          return where + ": storage '" + t[2].string + "' claims " + std::to_string(t[4].number) + " elements, its record holds " +
                 std::to_string(record->second) + " bytes";
        stack.push_back({});
        break;
      }
      default:
        return where + " is not one torch::save writes";
    }
  }
  return "no STOP opcode";
}

}  // namespace

void check_torch_archive(const std::string& bytes, const std::string& path) {
  const Bytes b(bytes, path);
  const uint64_t n = b.size();
  auto bad = [&](const auto&... what) {
    throw std::invalid_argument(
        detail::concat("checkpoint '", path, "' is truncated or corrupt (", n, " bytes): not a valid archive: ", what...));
  };
  // End of central directory: the last signature in the final 22 + 65535 bytes.
  uint64_t end = n;
  for (uint64_t at = n >= 22 ? n - 22 : 0, stop = n > 22 + 65535 ? n - 22 - 65535 : 0; n >= 22; --at) {
    if (b.u32(at) == kEnd) {
      end = at;
      break;
    }
    if (at == stop) break;
  }
  if (end == n) bad("no end of central directory record (truncated, or not a checkpoint)");
  uint64_t entries = b.u16(end + 10), directory_size = b.u32(end + 12), directory = b.u32(end + 16);
  if (entries == 0xFFFF || directory_size == kMarker32 || directory == kMarker32) {
    if (end < 20 || b.u32(end - 20) != kLocator64) bad("a ZIP64 archive without its ZIP64 locator");
    const uint64_t end64 = b.u64(end - 20 + 8);
    if (!b.fits(end64, 56) || b.u32(end64) != kEnd64) bad("the ZIP64 end record's offset ", end64, " is wrong");
    entries = b.u64(end64 + 32);
    directory_size = b.u64(end64 + 40);
    directory = b.u64(end64 + 48);
  }
  if (!b.fits(directory, directory_size)) bad("the central directory (", directory_size, " bytes at ", directory, ") lies outside the file");
  if (entries > directory_size / 46) bad(entries, " records cannot fit in a central directory of ", directory_size, " bytes");
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> pickles;  // name, (data, size)
  std::map<std::string, uint64_t> records;  // name -> uncompressed size
  uint64_t at = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (b.u32(at) != kCentral) bad("central directory entry ", i, " at byte ", at, " has no signature");
    const uint16_t method = b.u16(at + 10), name_length = b.u16(at + 28), extra_length = b.u16(at + 30),
                   comment_length = b.u16(at + 32);
    uint64_t compressed = b.u32(at + 20), uncompressed = b.u32(at + 24), offset = b.u32(at + 42);
    const std::string name = b.text(at + 46, name_length);
    // ZIP64 extended information (header 0x0001): the 64-bit values of the fields marked 0xFFFFFFFF, in this order.
    uint64_t* wide[] = {&uncompressed, &compressed, &offset};
    for (uint64_t e = at + 46 + name_length, e_end = e + extra_length; e + 4 <= e_end;) {
      const uint16_t id = b.u16(e), length = b.u16(e + 2);
      if (e + 4 + length > e_end) bad("record '", name, "': an extra field runs past its header");
      if (id == 0x0001) {
        uint64_t v = e + 4;
        for (uint64_t* field : wide)
          if (*field == kMarker32) {
            if (v + 8 > e + 4 + length) bad("record '", name, "': a short ZIP64 extra field");
            *field = b.u64(v);
            v += 8;
          }
      }
      e += 4 + length;
    }
    auto ends = [&](const std::string& tail) {
      return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    const bool pickle = ends(".pkl") || ends("/code/__torch__.py.debug_pkl");
    const bool code = name.find("/code/") != std::string::npos && !pickle;
    if (code && !ends("/code/__torch__.py")) bad("record '", name, "' is TorchScript source torch::save does not write");
    // torch::save stores tensors and pickles, and deflates only its TorchScript code records.
    if (method != 0 && (method != 8 || pickle))
      bad("record '", name, "' is compressed (method ", method, "); torch::save stores it uncompressed");
    if (method == 0 && compressed != uncompressed) bad("record '", name, "' claims ", uncompressed, " bytes but stores ", compressed);
    if (method == 8 && uncompressed > 1032 * compressed + 64)  // deflate expands at most ~1032-fold
      bad("record '", name, "' claims ", uncompressed, " bytes from ", compressed, " deflated ones");
    if (b.u32(offset) != kLocal) bad("record '", name, "': no local header at byte ", offset);
    const uint64_t data = offset + 30 + b.u16(offset + 26) + b.u16(offset + 28);
    if (!b.fits(data, compressed)) bad("record '", name, "' claims ", compressed, " bytes at byte ", data, ", past the end of the file");
    if (pickle) pickles.push_back({name, {data, compressed}});
    if (code) {  // compiled by LibTorch's reader: checked line by line
      std::string problem;
      const std::string source = method == 8 ? inflated(bytes, data, compressed, uncompressed, problem)
                                             : bytes.substr(data, compressed);
      if (problem.empty()) problem = code_problem(source);
      if (!problem.empty()) bad("record '", name, "': ", problem);
    }
    records[name] = uncompressed;
    at += 46 + uint64_t{name_length} + extra_length + comment_length;
  }
  for (const auto& [name, record] : pickles) {
    const std::string prefix = name.substr(0, name.rfind('/') + 1);  // "archive/"
    const std::string problem = pickle_problem(bytes, record.first, record.second, prefix, records);
    if (!problem.empty()) bad("record '", name, "': ", problem);
  }
}

}  // namespace elbo::train
