#pragma once
// A LibTorch archive (checkpoint.pt) from anyone, checked before LibTorch's reader sees it.
#include <string>

namespace elbo::train {

/// Checks what LibTorch's reader trusts without checking it:
///  - the ZIP container (PKWARE APPNOTE 6.3: end of central directory, its ZIP64 form, central and
///    local headers): every record stored uncompressed, as torch::save writes them, with its
///    sizes and offset inside the file;
///  - each pickle record (*.pkl): only the opcodes of protocol 2 that torch's pickler emits,
///    every length inside the record, every memo index below the record's size (the unpickler
///    grows its memo table to any index it is given).
/// So no number read from the file makes the reader allocate or read beyond the file's own
/// bytes. Throws std::invalid_argument naming `path` and the first bad record.
void check_torch_archive(const std::string& bytes, const std::string& path);

}  // namespace elbo::train
