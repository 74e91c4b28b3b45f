#pragma once
// Argument helpers shared by the cadereau commands: one usage error type and
// one way to read numbers and comma lists, so every command words its
// complaints the same way.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
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

// The whole number in `text`, given for option --name, within [min, max]:
// "1.5" or "2e0x" is refused rather than truncated.
inline long long parse_integer(const std::string& name, const std::string& text, long long min, long long max) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used, 10);
    if (used == text.size() && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw UsageError{fmt::format("--{} {}: expected a whole number in [{}, {}]", name, text, min, max)};
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

// A command line after its command words: options `--name VALUE`, flags
// `--name` (named up front), and positional words, taken one by one so that
// whatever is left over can be refused by finish().
class Args {
 public:
  Args(const std::vector<std::string>& args, std::size_t first, const std::vector<std::string>& flags = {}) {
    for (std::size_t i = first; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a.rfind("--", 0) != 0) {
        positional_.push_back(a);
        continue;
      }
      const std::string name = a.substr(2);
      if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
        options_.emplace(name, "");
        continue;
      }
      // An option followed by another option has no value: an unknown flag
      // such as --fast must not swallow the --out after it.
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
        options_.emplace(name, std::nullopt);
        continue;
      }
      options_.emplace(name, args[++i]);
    }
  }

  // The value of a single-valued option; refuses it given twice.
  std::optional<std::string> take(const std::string& name) {
    if (options_.count(name) > 1) throw UsageError{"option --" + name + " given twice"};
    return take_one(name);
  }
  // Every value of a repeatable option, in order.
  std::vector<std::string> take_all(const std::string& name) {
    std::vector<std::string> values;
    while (auto v = take_one(name)) values.push_back(*v);
    return values;
  }
  bool take_flag(const std::string& name) { return take(name).has_value(); }
  std::optional<long long> take_integer(const std::string& name, long long min, long long max) {
    auto v = take(name);
    if (!v) return std::nullopt;
    return parse_integer(name, *v, min, max);
  }
  long long take_integer(const std::string& name, long long fallback, long long min, long long max) {
    return take_integer(name, min, max).value_or(fallback);
  }
  std::optional<double> take_number(const std::string& name, double min, double max) {
    auto v = take(name);
    if (!v) return std::nullopt;
    return parse_number(name, *v, min, max);
  }
  double take_number(const std::string& name, double fallback, double min, double max) {
    return take_number(name, min, max).value_or(fallback);
  }

  const std::vector<std::string>& positional() const { return positional_; }
  // Refuses any option nobody took, and any positional word past the first
  // `positional_words` (a single-dash "-threads" lands there: named as an option).
  void finish(std::size_t positional_words = 0) const {
    if (!options_.empty()) throw UsageError{"unknown option --" + options_.begin()->first};
    for (std::size_t i = positional_words; i < positional_.size(); ++i) {
      const std::string& word = positional_[i];
      if (word.size() > 1 && word[0] == '-' && !std::isdigit(static_cast<unsigned char>(word[1])))
        throw UsageError{"unknown option " + word + " (options start with --)"};
      throw UsageError{"unexpected argument '" + word + "'"};
    }
  }

 private:
  std::optional<std::string> take_one(const std::string& name) {
    auto it = options_.find(name);
    if (it == options_.end()) return std::nullopt;
    if (!it->second) throw UsageError{"option --" + name + " needs a value"};
    std::string v = *it->second;
    options_.erase(it);
    return v;
  }

  // nullopt: given without a value (last word, or followed by another option).
  std::multimap<std::string, std::optional<std::string>> options_;
  std::vector<std::string> positional_;
};

}  // namespace cadereau::server
