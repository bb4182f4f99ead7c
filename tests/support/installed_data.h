#pragma once
// Data sets from Debian packages that scripts/setup.sh installs. A test that needs one fails
// (never skips) when it is absent: a skipped test would count as passed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace elbo::test {

inline const std::string kFashionMnist = "/usr/share/datasets/fashion-mnist/";  ///< dataset-fashion-mnist
inline const std::string kSklearnData = "/usr/lib/python3/dist-packages/sklearn/datasets/data/";  ///< python3-sklearn

}  // namespace elbo::test

/// Fails the test (fatally) unless `path` exists, naming the Debian package that provides it.
#define ELBO_REQUIRE_INSTALLED(path, package)                                                             \
  ASSERT_TRUE(std::filesystem::exists(path)) << "needs '" << (path) << "' from Debian's " << (package) \
                                             << " (bash scripts/setup.sh installs it)"
