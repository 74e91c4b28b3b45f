#pragma once
// One error type for bad input and environmental failures. The message always
// says where (a file, a line, a feature, a request) and what went wrong, so the
// CLI and the server can print it as is.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace cadereau {

class Error : public std::runtime_error {
 public:
  Error(std::string where, std::string what);

  const std::string& where() const noexcept { return where_; }
  const std::string& what_only() const noexcept { return what_; }

 private:
  std::string where_;
  std::string what_;
};

// Throws Error("where", formatted message).
template <typename... Args>
[[noreturn]] void fail(std::string_view where, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(std::string(where), fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace cadereau
