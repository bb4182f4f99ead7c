#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

/// Reads an IDX file (the MNIST-family format; gzip-compressed or not, detected
/// from the magic bytes): magic 0x0000 TT NN, NN big-endian uint32 sizes, then
/// the payload. Returns a tensor of the stored type (uint8 -> kUInt8, int8,
/// int16, int32, float32, float64) and shape. Throws std::invalid_argument
/// naming the file and byte offset on a bad magic, bad dimension count,
/// truncated payload, trailing bytes or a corrupt gzip stream.
torch::Tensor read_idx(const std::string& path);

/// Writes a uint8, float32 or float64 tensor as an uncompressed IDX file (type 0x08, 0x0d or 0x0e, sizes and
/// values big-endian), atomically; read_idx reads it back bit for bit. Refuses other dtypes, 0 or more than 255
/// dimensions, naming the path.
void write_idx(const std::string& path, const torch::Tensor& tensor);

/// The shape an IDX file declares, reading only its header (same checks as read_idx).
std::vector<int64_t> read_idx_shape(const std::string& path);

}  // namespace elbo::data
