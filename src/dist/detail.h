#pragma once
// Internal helpers shared by the distributions (not installed).
#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::dist::detail {

/// NumPy broadcast of two shapes; throws std::invalid_argument
/// "<who>: <what> shapes do not broadcast ([3] vs [4])".
std::vector<int64_t> broadcast_shapes(c10::IntArrayRef a, c10::IntArrayRef b,
                                      const std::string& who, const std::string& what);

/// Checks that a parameter is a defined floating-point tensor.
void check_parameter(const torch::Tensor& t, const std::string& who, const std::string& what);

/// Checks a location-scale pair (defined floating tensors on one device whose
/// shapes broadcast) and expands both to the common shape, in place.
void broadcast_loc_scale(torch::Tensor& loc, torch::Tensor& log_scale, const std::string& who);

/// Checks that x broadcasts against the parameter shape (for log_prob_elements).
void check_value(const torch::Tensor& x, c10::IntArrayRef params, const std::string& who);

/// softplus(x) = log(1 + e^x), exact for all x (ATen's softplus switches to x above 20).
torch::Tensor softplus(const torch::Tensor& x);

/// Scalar tensor with x's dtype and device, for torch::where.
torch::Tensor scalar_like(const torch::Tensor& x, double value);

/// Machine epsilon of x's floating dtype (torch.finfo(dtype).eps).
double epsilon(const torch::Tensor& x);

/// Whether x holds float64 (picks series cut-offs sized to the precision).
inline bool is_double(const torch::Tensor& x) { return x.scalar_type() == torch::kDouble; }

}  // namespace elbo::dist::detail
