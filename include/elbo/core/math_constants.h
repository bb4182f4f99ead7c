// Constants of the log-densities, one definition for every file (and for unity builds).
#pragma once

namespace elbo {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kLog2Pi = 1.83787706640934548356;      ///< log(2 pi)
inline constexpr double kHalfLog2Pi = 0.91893853320467274178;  ///< log(2 pi) / 2

}  // namespace elbo
