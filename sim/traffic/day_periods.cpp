// Periods of the day for time-of-day plans (see day_periods in greenwave.h).

#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::traffic {

namespace {

constexpr double kHour_s = 3600.0;
// An hour is a peak hour when it carries at least this share of the busiest
// hour's departures.
constexpr double kPeakShare = 0.75;
// Periods are looked for only in a demand departing over this long at least.
constexpr double kMinDayForPeriods_s = 3.0 * kHour_s;

// "07:00" of "07:00:00".
std::string hours_minutes(double t_s) {
  const std::string clock = clock_time(t_s);
  return clock.substr(0, clock.size() - 3);
}

std::string period_name(double begin_s, std::optional<double> end_s, bool peak, bool classified) {
  const std::string span = hours_minutes(begin_s) + (end_s ? "-" + hours_minutes(*end_s) : " on");
  return classified ? span + (peak ? " peak" : " off-peak") : span;
}

}  // namespace

std::vector<DayPeriod> day_periods(const GreenwaveOptions& options, const SimulationWindow& w) {
  std::vector<DayPeriod> out;
  const auto& d = w.demand;
  if (!options.periods.empty()) {
    auto sorted = options.periods;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t k = 0; k < sorted.size(); ++k) {
      const auto [b, e] = sorted[k];
      if (!(e > b)) fail("periods", "period {}-{} ends before it begins", clock_time(b), clock_time(e));
      if (b < w.begin_s - 1e-9 || (w.end_s && e > *w.end_s + 1e-9))
        fail("periods", "period {}-{} is outside the window {}-{}", clock_time(b), clock_time(e), clock_time(w.begin_s),
             w.end_s ? clock_time(*w.end_s) : std::string("the end"));
      if (k > 0 && b < sorted[k - 1].second - 1e-9)
        fail("periods", "periods {}-{} and {}-{} overlap", clock_time(sorted[k - 1].first), clock_time(sorted[k - 1].second),
             clock_time(b), clock_time(e));
      DayPeriod p{period_name(b, e, false, false), b, e, d.trips_between(b, e), false};
      if (p.trips == 0) fail("periods", "no trip departs in the period {}", p.name);
      out.push_back(p);
    }
    return out;
  }
  const double first_s = std::max(w.begin_s, d.first_s());
  const double last_s = w.end_s ? std::min(*w.end_s, d.last_s()) : d.last_s();
  const auto whole = [&] {
    return std::vector<DayPeriod>{{period_name(w.begin_s, w.end_s, false, false), w.begin_s, w.end_s, w.trips_in_window, false}};
  };
  if (!options.auto_periods || last_s - first_s < kMinDayForPeriods_s) return whole();
  // Whole hours from the window's first hour.
  const double start_s = std::floor(first_s / kHour_s) * kHour_s;
  const auto hours = static_cast<std::size_t>(std::ceil((last_s - start_s) / kHour_s + 1e-9));
  std::vector<long> count(hours, 0);
  for (std::size_t h = 0; h < hours; ++h)
    count[h] = d.trips_between(start_s + static_cast<double>(h) * kHour_s, start_s + static_cast<double>(h + 1) * kHour_s);
  const long busiest = *std::max_element(count.begin(), count.end());
  std::vector<char> peak(hours);
  for (std::size_t h = 0; h < hours; ++h) peak[h] = static_cast<double>(count[h]) >= kPeakShare * static_cast<double>(busiest);
  if (std::all_of(peak.begin(), peak.end(), [](char p) { return p; })) return whole();
  for (std::size_t h = 0; h < hours;) {
    std::size_t e = h;
    while (e < hours && peak[e] == peak[h]) ++e;
    const double b_s = h == 0 ? w.begin_s : start_s + static_cast<double>(h) * kHour_s;
    const std::optional<double> e_s =
        e == hours ? w.end_s : std::optional<double>(start_s + static_cast<double>(e) * kHour_s);
    out.push_back({period_name(b_s, e_s, peak[h] != 0, true), b_s, e_s, d.trips_between(b_s, e_s), peak[h] != 0});
    h = e;
  }
  return out;
}

}  // namespace cadereau::sim::traffic
