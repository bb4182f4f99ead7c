#pragma once
#include <exception>
#include <string>

namespace elbo {

/// An exception's message; for LibTorch's c10::Error without its C++ backtrace.
std::string message_of(const std::exception& e);

}  // namespace elbo
