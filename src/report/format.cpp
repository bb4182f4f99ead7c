#include "elbo/report/format.h"

#include <iomanip>
#include <locale>
#include <sstream>

namespace elbo::report {

std::string fixed(double v, int decimals) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << std::fixed << std::setprecision(decimals) << v;
  return out.str();
}

}  // namespace elbo::report
