#include "cadereau/sim/flood/time_series.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <fstream>
#include <sstream>

namespace cadereau::sim::flood {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool parse_number(const std::string& text, double& value) {
  const std::string t = trim(text);
  if (t.empty()) return false;
  std::istringstream in(t);
  in.imbue(std::locale::classic());
  in >> value;
  return !in.fail() && in.eof() && std::isfinite(value);
}

}  // namespace

TimeSeries::TimeSeries(std::vector<double> times_s, std::vector<double> values, const std::string& where)
    : times_s_(std::move(times_s)), values_(std::move(values)) {
  if (times_s_.size() != values_.size()) fail(where, "{} times but {} values", times_s_.size(), values_.size());
  if (times_s_.empty()) fail(where, "no points");
  for (std::size_t i = 1; i < times_s_.size(); ++i)
    if (!(times_s_[i] > times_s_[i - 1]))
      fail(where, "time goes back or repeats at point {} ({} s after {} s)", i + 1, times_s_[i], times_s_[i - 1]);
}

namespace {

// Whether a first field reads as a number was meant, even a bad one ("nan",
// "0O", "-inf", "1e"): such a row is data to check, never a header to skip.
bool number_like(const std::string& field) {
  const std::string t = trim(field);
  if (t.empty()) return false;
  const char c = t[0];
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') return true;
  std::string lower;
  for (char ch : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower.rfind("nan", 0) == 0 || lower.rfind("inf", 0) == 0;
}

}  // namespace

TimeSeries TimeSeries::read_csv(const std::filesystem::path& path, const std::string& value_name, double min_value,
                                double max_value) {
  const std::string file = path.string();
  std::ifstream in(path);
  if (!in) fail(file, "cannot open (file not found or unreadable)");
  std::vector<double> times, values;
  std::string line;
  int line_number = 0;
  bool first_row = true;
  while (std::getline(in, line)) {
    ++line_number;
    // Spreadsheets save UTF-8 with a byte-order mark: it belongs to no field.
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto comma = t.find(',');
    const std::string where = fmt::format("{}:{}", file, line_number);
    const std::string first_field = trim(comma == std::string::npos ? t : t.substr(0, comma));
    const bool header = first_row && !first_field.empty() && !number_like(first_field);
    first_row = false;
    if (header) continue;
    if (comma == std::string::npos) fail(where, "expected 'time_s,{}', got '{}'", value_name, t);
    double time = 0.0, value = 0.0;
    const bool time_ok = parse_number(t.substr(0, comma), time);
    const bool value_ok = parse_number(t.substr(comma + 1), value);
    if (!time_ok || !value_ok)
      fail(where, "'{}' is not a finite number", trim(time_ok ? t.substr(comma + 1) : t.substr(0, comma)));
    if (!times.empty() && !(time > times.back()))
      fail(where, "time {} s is not after the previous {} s (a time series must go forward)", time, times.back());
    if (value < min_value) fail(where, "{} {} is below {}", value_name, value, min_value);
    if (value > max_value) fail(where, "{} {} is above {}, the most this model takes", value_name, value, max_value);
    times.push_back(time);
    values.push_back(value);
  }
  if (times.empty()) fail(file, "no data rows (expected 'time_s,{}' lines)", value_name);
  return TimeSeries(std::move(times), std::move(values), file);
}

double TimeSeries::at(double t_s) const {
  if (times_s_.empty()) return 0.0;
  if (t_s <= times_s_.front()) return values_.front();
  if (t_s >= times_s_.back()) return values_.back();
  const auto it = std::upper_bound(times_s_.begin(), times_s_.end(), t_s);
  const std::size_t i = static_cast<std::size_t>(it - times_s_.begin());
  const double w = (t_s - times_s_[i - 1]) / (times_s_[i] - times_s_[i - 1]);
  return values_[i - 1] + w * (values_[i] - values_[i - 1]);
}

double TimeSeries::integral(double t0_s, double t1_s) const {
  if (times_s_.empty() || t1_s <= t0_s) return 0.0;
  // Trapezoids between t0, every knot inside, and t1: exact for a piecewise-linear function.
  double total = 0.0;
  double t_prev = t0_s, v_prev = at(t0_s);
  for (double knot : times_s_) {
    if (knot <= t0_s) continue;
    if (knot >= t1_s) break;
    const double v = at(knot);
    total += 0.5 * (v + v_prev) * (knot - t_prev);
    t_prev = knot;
    v_prev = v;
  }
  total += 0.5 * (at(t1_s) + v_prev) * (t1_s - t_prev);
  return total;
}

TimeSeries TimeSeries::replaced_from(double from_s, const TimeSeries& next) const {
  if (next.empty()) fail("time series", "the replacement from {} s has no points", from_s);
  // This series up to from_s, exactly; the next one from a millisecond later.
  constexpr double kStep_s = 1e-3;
  std::vector<double> times, values;
  for (std::size_t i = 0; i < times_s_.size() && times_s_[i] < from_s; ++i) {
    times.push_back(times_s_[i]);
    values.push_back(values_[i]);
  }
  times.push_back(from_s);
  values.push_back(at(from_s));
  times.push_back(from_s + kStep_s);
  values.push_back(next.at(from_s + kStep_s));
  for (std::size_t i = 0; i < next.times_s_.size(); ++i)
    if (next.times_s_[i] > from_s + kStep_s) {
      times.push_back(next.times_s_[i]);
      values.push_back(next.values_[i]);
    }
  return TimeSeries(std::move(times), std::move(values), "time series");
}

double TimeSeries::max_value() const {
  return values_.empty() ? 0.0 : *std::max_element(values_.begin(), values_.end());
}

}  // namespace cadereau::sim::flood
