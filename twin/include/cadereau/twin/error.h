#pragma once
// One error type for bad input and environmental failures. The message always
// says where (a file, a line, a feature, a request) and what went wrong, so the
// CLI and the server can print it as is. Its category says what kind of
// failure it is; the CLI's exit code and the server's HTTP status both come
// from the category, each in one place (exit_code() here, the server's
// response mapping there), so callers and tests look at the category, never
// at the wording.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace cadereau {

enum class ErrorCategory {
  bad_input,        // the request or file is wrong: fix it and try again (HTTP 400)
  unauthenticated,  // no or bad credentials (401)
  forbidden,        // known, but not allowed to (403)
  not_found,        // what was named does not exist (404)
  conflict,         // the state does not allow it now: already exists, already running (409)
  too_large,        // over a size limit (413)
  rate_limited,     // too many attempts, retry later (429)
  unavailable,      // a needed service or resource is not there now (503)
  internal,         // a defect or an unexpected failure (500)
};

const char* to_string(ErrorCategory category);
// The process exit code of a command that fails with this category: 1 for a
// wrong input or state, 69 (EX_UNAVAILABLE) and 70 (EX_SOFTWARE) for the
// service and the defect cases. Usage errors (exit 2) are the CLI's own.
int exit_code(ErrorCategory category);

class Error : public std::runtime_error {
 public:
  Error(std::string where, std::string what, ErrorCategory category = ErrorCategory::bad_input);

  const std::string& where() const noexcept { return where_; }
  const std::string& what_only() const noexcept { return what_; }
  ErrorCategory category() const noexcept { return category_; }

 private:
  std::string where_;
  std::string what_;
  ErrorCategory category_;
};

// Throws Error("where", formatted message), a bad input.
template <typename... Args>
[[noreturn]] void fail(std::string_view where, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(std::string(where), fmt::format(format, std::forward<Args>(args)...));
}

// Throws Error of the given category.
template <typename... Args>
[[noreturn]] void fail_as(ErrorCategory category, std::string_view where, fmt::format_string<Args...> format,
                          Args&&... args) {
  throw Error(std::string(where), fmt::format(format, std::forward<Args>(args)...), category);
}

}  // namespace cadereau
