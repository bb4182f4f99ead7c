#include "elbo/core/error_message.h"

#include <c10/util/Exception.h>

namespace elbo {

std::string message_of(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  return c10 ? c10->what_without_backtrace() : e.what();
}

}  // namespace elbo
