#pragma once
// Piecewise-linear time series (hydrographs, hyetographs) read from CSV.

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace cadereau::sim::flood {

class TimeSeries {
 public:
  TimeSeries() = default;
  // Times must be strictly increasing. Throws cadereau::Error otherwise.
  TimeSeries(std::vector<double> times_s, std::vector<double> values, const std::string& where = "time series");

  // Reads "time_s,VALUE" rows after an optional UTF-8 byte-order mark. The
  // first row is a header when its first field does not read as a number
  // was meant ("time_s", not "nan" or "0O"). Throws cadereau::Error
  // "FILE:LINE: ..." on a field that is not a finite number, time going back,
  // an empty file, or a value outside [min_value, max_value].
  static TimeSeries read_csv(const std::filesystem::path& path, const std::string& value_name, double min_value,
                             double max_value = std::numeric_limits<double>::infinity());
  static TimeSeries constant(double value) { return TimeSeries({0.0}, {value}); }

  // Linear interpolation; held constant before the first and after the last point.
  double at(double t_s) const;
  // Integral over [t0, t1] (exact for the linear interpolant).
  double integral(double t0_s, double t1_s) const;
  bool empty() const { return times_s_.empty(); }
  double end_s() const { return times_s_.empty() ? 0.0 : times_s_.back(); }
  double max_value() const;
  // This series until from_s and `next` after it: the values before from_s
  // are kept exactly (so what already ran keeps its volume), then the value
  // steps to next's within a millisecond. Throws Error when next is empty.
  TimeSeries replaced_from(double from_s, const TimeSeries& next) const;
  const std::vector<double>& times_s() const { return times_s_; }
  const std::vector<double>& values() const { return values_; }

 private:
  std::vector<double> times_s_;
  std::vector<double> values_;
};

}  // namespace cadereau::sim::flood
