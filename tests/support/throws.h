#pragma once
// Asserting on exception messages (tests check what the user will read).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace elbo::test {

/// Runs f, expects it to throw E, and returns the message ("" when it did not throw).
template <typename E, typename F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

/// Expects f to throw std::invalid_argument whose message contains every part.
template <typename F>
void expect_invalid_argument(F&& f, std::initializer_list<std::string> parts) {
  const std::string message = thrown_message<std::invalid_argument>(f);
  for (const auto& part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
}

}  // namespace elbo::test
