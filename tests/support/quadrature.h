#pragma once
// Numerical integration for closed-form checks, in double.
#include <cstdint>

namespace elbo::test {

/// Composite trapezoid rule for the integral of f over [a, b] with n intervals.
template <typename F>
double trapezoid(F&& f, double a, double b, int64_t n = 1000000) {
  const double h = (b - a) / static_cast<double>(n);
  double sum = 0.5 * (f(a) + f(b));
  for (int64_t i = 1; i < n; ++i) sum += f(a + h * static_cast<double>(i));
  return sum * h;
}

}  // namespace elbo::test
