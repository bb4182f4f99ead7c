#pragma once
// Reading a file that may be gzip-compressed (internal to src/data: the IDX and FASTA readers).
#include <cstdint>
#include <memory>
#include <string>

struct gzFile_s;

namespace elbo::data {

/// A file read through zlib: gzip (one member or several, detected by the magic bytes 1f 8b) is
/// inflated, anything else is read as it is. Errors throw std::invalid_argument naming the file:
/// it cannot be opened, a read fails, the gzip stream is corrupt or ends early (a truncated file).
class GzipReader {
 public:
  /// Opens `path`; `what` names the kind of file in the error ("IDX file", "FASTA file").
  GzipReader(const std::string& path, const std::string& what);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  /// Reads up to `n` bytes into `dst`; returns the count read (< n only at the end of the file).
  uint64_t read(void* dst, uint64_t n);
  bool compressed() const;  ///< whether the file is gzip (else read as it is)
  uint64_t offset() const { return offset_; }  ///< (decompressed) bytes read so far
  /// " (offset in the decompressed stream)" for gzip files, "" otherwise: for messages naming offsets.
  std::string where() const { return compressed() ? " (offset in the decompressed stream)" : ""; }

 private:
  [[noreturn]] void fail();

  struct Closer {
    void operator()(gzFile_s* f) const;
  };
  std::string path_;
  std::unique_ptr<gzFile_s, Closer> file_;
  uint64_t offset_ = 0;
};

}  // namespace elbo::data
