#include "gzip_reader.h"

#include "elbo/core/check.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace elbo::data {

void GzipReader::Closer::operator()(gzFile_s* f) const { gzclose(f); }

GzipReader::GzipReader(const std::string& path, const std::string& what) : path_(path) {
  errno = 0;
  file_.reset(gzopen(path.c_str(), "rb"));
  ELBO_CHECK(file_, path, ": cannot open ", what, ": ", errno ? std::strerror(errno) : "out of memory");
  // 64 KB: reading an IDX header then inflates at most 128 KB (1 MB made it 2 MB, ~5 ms per
  // file, before the fast path reads the file again); large reads inflate straight into
  // the caller's buffer, as fast as with 1 MB.
  gzbuffer(file_.get(), 1 << 16);
}

GzipReader::~GzipReader() = default;

uint64_t GzipReader::read(void* dst, uint64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  uint64_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<uint64_t>(n - done, 1u << 30));
    const int got = gzread(file_.get(), out + done, chunk);
    if (got < 0) fail();
    done += static_cast<uint64_t>(got);
    offset_ += static_cast<uint64_t>(got);
    if (static_cast<unsigned>(got) < chunk) {
      int err = Z_OK;
      gzerror(file_.get(), &err);
      if (err != Z_OK) fail();
      break;
    }
  }
  return done;
}

bool GzipReader::compressed() const { return gzdirect(file_.get()) == 0; }

void GzipReader::fail() {
  int err = Z_OK;
  const char* msg = gzerror(file_.get(), &err);
  if (err == Z_ERRNO) {
    ELBO_CHECK(false, path_, ": read error: ", std::strerror(errno));
  }
  ELBO_CHECK(err != Z_BUF_ERROR, path_, ": corrupt gzip stream: it ends early, after ", offset_,
             " decompressed bytes (the file is truncated)");
  ELBO_CHECK(false, path_, ": corrupt gzip stream after ", offset_, " decompressed bytes: ", msg ? msg : "unknown zlib error");
}

}  // namespace elbo::data
