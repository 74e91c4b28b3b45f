#include "cadereau/twin/error.h"

namespace cadereau {

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::bad_input: return "bad_input";
    case ErrorCategory::not_found: return "not_found";
    case ErrorCategory::conflict: return "conflict";
    case ErrorCategory::forbidden: return "forbidden";
    case ErrorCategory::unavailable: return "unavailable";
    case ErrorCategory::internal: return "internal";
  }
  return "internal";
}

Error::Error(std::string where, std::string what) : Error(ErrorCategory::bad_input, std::move(where), std::move(what)) {}

Error::Error(ErrorCategory category, std::string where, std::string what)
    : std::runtime_error(where.empty() ? what : where + ": " + what),
      category_(category),
      where_(std::move(where)),
      what_(std::move(what)) {}

}  // namespace cadereau
