#pragma once
// Numbers as text for tables, reports and plots.
#include <string>

namespace elbo::report {

/// `v` in fixed-point notation with `decimals` digits after the point, in the C locale ("3.142").
std::string fixed(double v, int decimals = 3);

}  // namespace elbo::report
