#include "cadereau/twin/error.h"

namespace cadereau {

Error::Error(std::string where, std::string what, ErrorCategory category)
    : std::runtime_error(where.empty() ? what : where + ": " + what),
      where_(std::move(where)),
      what_(std::move(what)),
      category_(category) {}

const char* to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::bad_input: return "bad_input";
    case ErrorCategory::unauthenticated: return "unauthenticated";
    case ErrorCategory::forbidden: return "forbidden";
    case ErrorCategory::not_found: return "not_found";
    case ErrorCategory::conflict: return "conflict";
    case ErrorCategory::too_large: return "too_large";
    case ErrorCategory::rate_limited: return "rate_limited";
    case ErrorCategory::unavailable: return "unavailable";
    case ErrorCategory::internal: return "internal";
  }
  return "internal";
}

int exit_code(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::unavailable: return 69;
    case ErrorCategory::internal: return 70;
    default: return 1;
  }
}

}  // namespace cadereau
