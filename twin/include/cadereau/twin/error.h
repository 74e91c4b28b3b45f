#pragma once
// One error type for bad input and environmental failures. The message always
// says where (a file, a line, a feature, a request) and what went wrong, so the
// CLI and the server can print it as is.
//
// Each error has a category, which the server maps to an HTTP status and the
// CLI to an exit code; tests assert the category, not the wording.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace cadereau {

enum class ErrorCategory {
  bad_input,    // the caller's input is wrong (a file, a request, an option)
  not_found,    // what it names does not exist
  conflict,     // it contradicts the current state (a duplicate, a wrong state)
  forbidden,    // the caller may not do this
  unavailable,  // a resource is missing or busy; trying later may work
  internal,     // our own state is broken (a corrupt data file, a failed invariant)
};

// "bad_input", "not_found", ...
std::string_view to_string(ErrorCategory category);

class Error : public std::runtime_error {
 public:
  // A bad_input error.
  Error(std::string where, std::string what);
  Error(ErrorCategory category, std::string where, std::string what);

  ErrorCategory category() const noexcept { return category_; }
  const std::string& where() const noexcept { return where_; }
  const std::string& what_only() const noexcept { return what_; }

 private:
  ErrorCategory category_ = ErrorCategory::bad_input;
  std::string where_;
  std::string what_;
};

// Throws a bad_input Error("where", formatted message).
template <typename... Args>
[[noreturn]] void fail(std::string_view where, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(std::string(where), fmt::format(format, std::forward<Args>(args)...));
}

// Throws Error(category, "where", formatted message).
template <typename... Args>
[[noreturn]] void fail_as(ErrorCategory category, std::string_view where, fmt::format_string<Args...> format,
                          Args&&... args) {
  throw Error(category, std::string(where), fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace cadereau
