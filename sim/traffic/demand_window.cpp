#include "cadereau/sim/traffic/demand_window.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/route_file.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace cadereau::sim::traffic {

namespace {

std::optional<double> number(std::string_view text) {
  double v = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The vehicles of one <flow>, spread evenly over [begin, end).
void add_flow(const pugi::xml_node& flow, const std::string& where, DemandSpan& span) {
  const auto begin = parse_sumo_time_s(flow.attribute("begin").as_string("0"));
  const auto end = parse_sumo_time_s(flow.attribute("end").as_string("86400"));
  if (!begin || !end)
    fail(where, "flow '{}': begin or end is not a time", flow.attribute("id").as_string());
  if (*end <= *begin) return;
  double period_s = 0.0;
  long count = -1;
  if (const auto n = flow.attribute("number")) {
    count = n.as_llong();
    period_s = count > 0 ? (*end - *begin) / static_cast<double>(count) : 0.0;
  } else if (const auto v = flow.attribute("vehsPerHour")) {
    period_s = v.as_double() > 0.0 ? 3600.0 / v.as_double() : 0.0;
  } else if (const auto p = flow.attribute("period")) {
    period_s = p.as_double();
  } else if (const auto q = flow.attribute("probability")) {
    period_s = q.as_double() > 0.0 ? 1.0 / q.as_double() : 0.0;  // the expected spacing, one per step of 1 s
  }
  if (!(period_s > 0.0)) return;
  for (long k = 0; count < 0 || k < count; ++k) {
    const double t = *begin + static_cast<double>(k) * period_s;
    if (t >= *end) break;
    span.departures_s.push_back(t);
  }
}

}  // namespace

std::optional<double> parse_sumo_time_s(const std::string& text) {
  if (text.find(':') == std::string::npos) return number(text);
  // [D:]H:M:S
  std::vector<double> parts;
  std::size_t start = 0;
  while (true) {
    const auto colon = text.find(':', start);
    const auto v = number(std::string_view(text).substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (!v) return std::nullopt;
    parts.push_back(*v);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) return std::nullopt;
  double s = 0.0;
  const double unit[] = {86400.0, 3600.0, 60.0, 1.0};
  for (std::size_t k = 0; k < parts.size(); ++k) s += parts[k] * unit[4 - parts.size() + k];
  return s;
}

std::string clock_time(double t_s) {
  const long s = std::lround(t_s);
  const long day = s / 86400, in_day = s % 86400;
  const std::string hms = fmt::format("{:02d}:{:02d}:{:02d}", in_day / 3600, (in_day / 60) % 60, in_day % 60);
  return day > 0 ? fmt::format("{}:{}", day, hms) : hms;
}

long DemandSpan::trips_between(double begin_s, std::optional<double> end_s) const {
  const auto from = std::lower_bound(departures_s.begin(), departures_s.end(), begin_s);
  const auto to = end_s ? std::lower_bound(from, departures_s.end(), *end_s) : departures_s.end();
  return static_cast<long>(to - from);
}

DemandSpan read_demand_span(const std::vector<std::filesystem::path>& routes) {
  DemandSpan span;
  for (const auto& file : routes) {
    if (!std::filesystem::exists(file)) fail_as(ErrorCategory::not_found, file.string(), "route file not found");
    // Well-formed, with its line when not (a truncated file says so).
    twin::check_route_file(file);
    pugi::xml_document doc;
    const auto result = doc.load_file(file.c_str());
    if (!result) fail(file.string(), "not a valid XML file: {}", result.description());
    for (const auto& node : doc.document_element().children()) {
      const char* name = node.name();
      if (std::strcmp(name, "flow") == 0) {
        add_flow(node, file.string(), span);
      } else if (std::strcmp(name, "vehicle") == 0 || std::strcmp(name, "trip") == 0) {
        if (const auto t = parse_sumo_time_s(node.attribute("depart").as_string()))
          span.departures_s.push_back(*t);
        else
          ++span.skipped;
      }
    }
  }
  std::sort(span.departures_s.begin(), span.departures_s.end());
  return span;
}

}  // namespace cadereau::sim::traffic
