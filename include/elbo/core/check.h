#pragma once
/// Input checks at API boundaries. A failed check throws with a message that
/// names the function and the bad value, e.g.
///   elbo::dist::Normal: scale must be positive (got -1)
/// Bad configuration or input throws std::invalid_argument; numerical failure
/// throws std::domain_error (the convention of Stan's check_* functions).
#include <sstream>
#include <stdexcept>
#include <string>

namespace elbo::detail {

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace elbo::detail

/// Throws std::invalid_argument(concat(message...)) unless `cond` holds.
#define ELBO_CHECK(cond, ...)                                               \
  do {                                                                      \
    if (!(cond)) throw std::invalid_argument(::elbo::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Throws std::domain_error(concat(message...)) unless `cond` holds.
#define ELBO_CHECK_NUMERIC(cond, ...)                                       \
  do {                                                                      \
    if (!(cond)) throw std::domain_error(::elbo::detail::concat(__VA_ARGS__)); \
  } while (0)
