#pragma once
// When a SUMO demand departs: the departure times of the vehicles, trips and
// flows of route files, so that a simulation window can default to the
// demand's own span and a window that holds no trip can be refused.
//
// Times are SUMO simulation seconds (the demo's demand, like most, counts
// them from midnight). Errors: cadereau::Error naming the file for one that
// is missing or not XML, or a departure time that is not a time.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct DemandSpan {
  std::vector<double> departures_s;  // sorted; a flow counts each of its vehicles
  long skipped = 0;                  // departures not given as a time ("triggered", "now"...)

  long trips() const { return static_cast<long>(departures_s.size()); }
  double first_s() const { return departures_s.empty() ? 0.0 : departures_s.front(); }
  double last_s() const { return departures_s.empty() ? 0.0 : departures_s.back(); }
  // Departures in [begin_s, end_s); none for end_s: every one from begin_s on.
  long trips_between(double begin_s, std::optional<double> end_s) const;
};

// Reads <vehicle>, <trip> (depart) and <flow> (begin, end and one of number,
// vehsPerHour, period, probability: vehicles spread evenly) of the files.
// Persons and containers are not counted.
DemandSpan read_demand_span(const std::vector<std::filesystem::path>& routes);

// A SUMO time attribute in seconds: "25200", "25200.5" or "07:00:00"
// (and "1:07:00:00" with days); nothing when it is not a time.
std::optional<double> parse_sumo_time_s(const std::string& text);

// "07:05:30" for 25530 s: the clock time of SUMO seconds counted from midnight
// (past 24 h the day goes first: "1:07:05:30").
std::string clock_time(double t_s);

}  // namespace cadereau::sim::traffic
