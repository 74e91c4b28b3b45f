#pragma once
// Argument helpers shared by the cadereau commands: one usage error type and
// one way to read numbers and comma lists, so every command words its
// complaints the same way.

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

namespace cadereau::server {

// A bad command line: the command prints the message and its usage, exit 2.
struct UsageError {
  std::string message;
};

// The number in `text`, given for option --name, within [min, max].
inline double parse_number(const std::string& name, const std::string& text, double min, double max) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{fmt::format("--{} {}: expected a number in [{}, {}]", name, text, min, max)};
}

// The number in `text`, given for option --name, any finite value.
inline double parse_number(const std::string& name, const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{fmt::format("--{} {}: not a number", name, text)};
}

// "a,b,c" -> {"a", "b", "c"}; empty fields are kept so callers can refuse them.
inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace cadereau::server
