#include "cadereau/scenarios/scenario.h"

#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/utf8.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace cadereau::scenarios {

namespace {

using sim::flood::TimeSeries;

std::string at(const std::filesystem::path& file, const YAML::Node& node) {
  const int line = node.Mark().line;
  return line >= 0 ? fmt::format("{}:{}", file.string(), line + 1) : file.string();
}

// Parses "HH:MM" or "HH:MM:SS" into seconds after midnight.
std::optional<double> clock_seconds(const std::string& text) {
  int h = 0, m = 0, s = 0;
  char c1 = 0, c2 = 0;
  std::istringstream in(text);
  if (!(in >> h >> c1 >> m) || c1 != ':') return std::nullopt;
  if (in >> c2) {
    if (c2 != ':' || !(in >> s)) return std::nullopt;
  }
  std::string rest;
  if (in >> rest) return std::nullopt;
  if (h < 0 || m < 0 || m > 59 || s < 0 || s > 59) return std::nullopt;
  return h * 3600.0 + m * 60.0 + s;
}

// The whole of `text` as a finite number, or nothing ("1.2.3", "." and
// "1e400" are not numbers; std::stod would take a prefix or throw).
std::optional<double> whole_number(std::string_view text) {
  double v = 0.0;
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "2h", "90min", "1h30", "45s", "1h30min", or a number of seconds.
std::optional<double> duration_seconds(const std::string& text) {
  if (const auto v = whole_number(text)) return v;
  double total = 0.0;
  std::size_t i = 0;
  bool any = false;
  char last_unit = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    const auto number = whole_number(std::string_view(text).substr(i, j - i));
    if (!number) return std::nullopt;
    const double v = *number;
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    if (unit == "h")
      total += v * 3600.0, last_unit = 'h';
    else if (unit == "min" || unit == "m")
      total += v * 60.0, last_unit = 'm';
    else if (unit == "s")
      total += v, last_unit = 's';
    else if (unit.empty() && last_unit == 'h' && k == text.size())
      total += v * 60.0;  // "1h30"
    else
      return std::nullopt;
    any = true;
    i = k;
  }
  if (!any) return std::nullopt;
  return total;
}

// yaml-cpp keeps the first of two equal keys and drops the second without a
// word: a scenario edited twice would silently run its older value.
void refuse_duplicate_keys(const YAML::Node& node, const std::filesystem::path& file) {
  if (node.IsMap()) {
    std::map<std::string, int> seen;  // key -> its first line
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        const auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark().line + 1);
        if (!fresh)
          fail(at(file, kv.first), "key '{}' is given twice (first at line {}); keep one", kv.first.Scalar(),
               it->second);
      }
      refuse_duplicate_keys(kv.second, file);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) refuse_duplicate_keys(item, file);
  }
}

// "YYYY-MM-DD" naming a day that exists (no 1988-02-30).
bool real_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  const std::chrono::year_month_day day{std::chrono::year{std::stoi(text.substr(0, 4))},
                                        std::chrono::month{static_cast<unsigned>(std::stoi(text.substr(5, 2)))},
                                        std::chrono::day{static_cast<unsigned>(std::stoi(text.substr(8, 2)))}};
  return day.ok();
}

struct Reader {
  std::filesystem::path file;
  Scenario* scenario;

  [[noreturn]] void bad(const YAML::Node& node, const std::string& what) const { fail(at(file, node), "{}", what); }

  std::string text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) bad(node, fmt::format("'{}' must be a text value", key));
    return node.Scalar();
  }

  double number(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) bad(node, fmt::format("'{}' must be a number", key));
    try {
      std::size_t used = 0;
      const double v = std::stod(node.Scalar(), &used);
      if (used == node.Scalar().size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    bad(node, fmt::format("'{}' must be a number, not '{}'", key, node.Scalar()));
  }

  // A time: "HH:MM[:SS]" on the start day, or seconds since the start.
  double time(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) bad(node, fmt::format("'{}' must be a time (HH:MM or seconds)", key));
    const std::string& s = node.Scalar();
    if (s.find(':') != std::string::npos) {
      auto c = clock_seconds(s);
      if (!c) bad(node, fmt::format("'{}' is not a clock time HH:MM[:SS]", s));
      return *c - scenario->start_clock_s;
    }
    return number(node, key);
  }

  TimeSeries series(const YAML::Node& node, const std::string& key, const std::string& unit, double max) const {
    if (!node.IsSequence() || node.size() == 0)
      bad(node, fmt::format("'{}' must be a list of [time, {}] pairs", key, unit));
    std::vector<double> times, values;
    for (const auto& row : node) {
      if (!row.IsSequence() || row.size() != 2) bad(row, fmt::format("each row of '{}' must be [time, {}]", key, unit));
      const double t = time(row[0], key);
      const double v = number(row[1], key);
      if (v < 0.0) bad(row[1], fmt::format("{} {} is negative in '{}'", v, unit, key));
      if (v > max) bad(row[1], fmt::format("{} {} in '{}' is above {:g} {}, the most a run takes", v, unit, key, max, unit));
      if (!times.empty() && t <= times.back())
        bad(row[0], fmt::format("time goes back in '{}' ({} s after {} s)", key, t, times.back()));
      times.push_back(t);
      values.push_back(v);
    }
    return TimeSeries(std::move(times), std::move(values), at(file, node));
  }

  void check_keys(const YAML::Node& map, const std::set<std::string>& known, const std::string& what) const {
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        bad(kv.first, fmt::format("unknown key '{}' in {} (known: {})", key, what, list));
      }
    }
  }
};

}  // namespace

std::filesystem::path Scenario::territory_folder(const std::filesystem::path& demo_folder) const {
  if (territory == "demo") return demo_folder;
  std::filesystem::path p(territory);
  return p.is_absolute() ? p : file.parent_path() / p;
}

Scenario read_scenario(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) fail(file.string(), "cannot read the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file);
}

Scenario parse_scenario(const std::string& text, const std::filesystem::path& file) {
  // Names and texts go to JSON, HDF5 and HTML at the end of a run: refuse
  // another encoding now, where the line can be named.
  twin::require_utf8(text, file.string());
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(fmt::format("{}:{}", file.string(), e.mark.line + 1), "not valid YAML: {}", e.msg);
  }
  if (!root.IsMap()) fail(file.string(), "a scenario is a YAML mapping (name:, territory:, start:, duration:...)");
  refuse_duplicate_keys(root, file);
  Scenario s;
  s.file = file;
  s.text = text;
  Reader r{file, &s};
  r.check_keys(root,
               {"name", "description", "territory", "start", "duration", "exchange_step_s", "access_every_s", "flood_cell_m", "seed",
                "traffic", "traffic_model", "light_plans", "rain", "inflows", "events",
                // Exercise features, kept for them.
                "players", "roles", "injects", "objectives"},
               "the scenario");
  auto need = [&](const char* key) {
    if (!root[key]) fail(file.string(), "the scenario needs '{}'", key);
    return root[key];
  };
  s.name = r.text(need("name"), "name");
  if (root["description"]) s.description = r.text(root["description"], "description");
  s.territory = r.text(need("territory"), "territory");
  {
    const YAML::Node start = need("start");
    s.start = r.text(start, "start");
    const auto tpos = s.start.find('T');
    auto clock = tpos == std::string::npos ? std::nullopt : clock_seconds(s.start.substr(tpos + 1));
    if (!clock || tpos != 10 || *clock >= 86400.0)
      r.bad(start, fmt::format("start '{}' is not a date and time YYYY-MM-DDTHH:MM[:SS]", s.start));
    if (!real_date(s.start.substr(0, 10)))
      r.bad(start, fmt::format("start '{}': {} is not a day of the calendar", s.start, s.start.substr(0, 10)));
    s.start_clock_s = *clock;
  }
  {
    const YAML::Node d = need("duration");
    auto v = d.IsScalar() ? duration_seconds(d.Scalar()) : std::nullopt;
    if (!v || !(*v > 0.0) || *v > sim::flood::kMaxRunDuration_s)
      r.bad(d, fmt::format("duration '{}' is not a duration (7200, 2h, 90min, 1h30) up to 7 days",
                           d.IsScalar() ? d.Scalar() : std::string("?")));
    s.duration_s = *v;
  }
  if (root["exchange_step_s"]) {
    s.exchange_s = r.number(root["exchange_step_s"], "exchange_step_s");
    if (!(s.exchange_s >= 1.0 && s.exchange_s <= 600.0))
      r.bad(root["exchange_step_s"], "exchange_step_s must be between 1 and 600 s");
  }
  if (root["access_every_s"]) {
    s.access_every_s = r.number(root["access_every_s"], "access_every_s");
    if (!(s.access_every_s >= s.exchange_s)) r.bad(root["access_every_s"], "access_every_s must be >= the exchange step");
  }
  if (root["flood_cell_m"]) {
    s.flood_cell_m = r.number(root["flood_cell_m"], "flood_cell_m");
    s.flood_cell_where = at(file, root["flood_cell_m"]);
    // A millimetre cell would make the run crawl as a DEM's would.
    if (!(s.flood_cell_m >= sim::flood::kMinCell_m && s.flood_cell_m <= 200.0))
      r.bad(root["flood_cell_m"], fmt::format("flood_cell_m must be between {:g} and 200 m", sim::flood::kMinCell_m));
  }
  if (root["seed"]) {
    // Digits only: a seed past 2^53 or written 4.2e1 would not be the seed it reads as.
    constexpr std::uint64_t kMaxSeed = std::uint64_t{1} << 53;
    const YAML::Node seed = root["seed"];
    const std::string digits = seed.IsScalar() ? seed.Scalar() : std::string();
    const bool whole = !digits.empty() && digits.size() <= 16 &&
                       std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!whole || std::stoull(digits) > kMaxSeed)
      r.bad(seed, fmt::format("seed '{}' must be a whole number in [0, 2^53]", seed.IsScalar() ? digits : "?"));
    s.seed = std::stoull(digits);
  }
  if (root["traffic"]) {
    const std::string t = r.text(root["traffic"], "traffic");
    if (t != "true" && t != "false") r.bad(root["traffic"], "traffic must be true or false");
    s.traffic = t == "true";
  }
  if (root["traffic_model"]) {
    const std::string t = r.text(root["traffic_model"], "traffic_model");
    if (t == "microscopic")
      s.traffic_model = sim::traffic::TrafficModelKind::microscopic;
    else if (t == "mesoscopic")
      s.traffic_model = sim::traffic::TrafficModelKind::mesoscopic;
    else
      r.bad(root["traffic_model"], fmt::format("traffic_model '{}' is not microscopic or mesoscopic", t));
  }

  if (const YAML::Node plans = root["light_plans"]) {
    if (!plans.IsSequence()) r.bad(plans, "'light_plans' must be a list of SUMO additional files ([plan.add.xml])");
    for (const auto& item : plans) {
      const std::filesystem::path plan(r.text(item, "light_plans"));
      s.light_plans.push_back(plan.is_absolute() ? plan : file.parent_path() / plan);
      s.light_plans_where.push_back(at(file, item));
    }
  }

  if (const YAML::Node rain = root["rain"]) {
    if (!rain.IsSequence()) r.bad(rain, "'rain' must be a list of hyetographs");
    for (const auto& item : rain) {
      if (!item.IsMap()) r.bad(item, "each rain entry is a mapping (gauge: or zone:, mm_h:)");
      r.check_keys(item, {"gauge", "zone", "area", "mm_h"}, "a rain entry");
      RainSpec spec;
      spec.where = at(file, item);
      if (item["gauge"] && item["zone"]) r.bad(item, "a rain entry names a gauge or a zone, not both");
      if (item["gauge"]) spec.over = RainSpec::Over::gauge, spec.id = r.text(item["gauge"], "gauge");
      if (item["zone"]) spec.over = RainSpec::Over::zone, spec.id = r.text(item["zone"], "zone");
      if (const YAML::Node area = item["area"]) {
        if (!area.IsSequence() || area.size() != 4) r.bad(area, "'area' is [x_min, y_min, x_max, y_max] in the territory CRS");
        twin::Box box{r.number(area[0], "area"), r.number(area[1], "area"), r.number(area[2], "area"), r.number(area[3], "area")};
        if (!(box.x_max_m > box.x_min_m && box.y_max_m > box.y_min_m)) r.bad(area, "'area' has x_max <= x_min or y_max <= y_min");
        spec.area = box;
      }
      if (!item["mm_h"]) r.bad(item, "a rain entry needs 'mm_h': [[time, mm/h], ...]");
      spec.mm_h = r.series(item["mm_h"], "mm_h", "mm/h", sim::flood::kMaxRain_mm_h);
      s.rain.push_back(std::move(spec));
    }
  }
  if (const YAML::Node inflows = root["inflows"]) {
    if (!inflows.IsSequence()) r.bad(inflows, "'inflows' must be a list of hydrographs");
    for (const auto& item : inflows) {
      if (!item.IsMap()) r.bad(item, "each inflow is a mapping (name:, at:, m3_s:)");
      r.check_keys(item, {"name", "at", "m3_s"}, "an inflow");
      InflowSpec spec;
      spec.where = at(file, item);
      if (!item["at"]) r.bad(item, "an inflow needs 'at': a sensor id or [x, y]");
      const YAML::Node where = item["at"];
      if (where.IsSequence()) {
        if (where.size() != 2) r.bad(where, "'at' as coordinates is [x, y] in the territory CRS");
        spec.location = twin::MapPoint{r.number(where[0], "at"), r.number(where[1], "at")};
      } else {
        spec.sensor = r.text(where, "at");
      }
      spec.name = item["name"] ? r.text(item["name"], "name") : spec.sensor.value_or("inflow");
      if (!item["m3_s"]) r.bad(item, "an inflow needs 'm3_s': [[time, m3/s], ...]");
      spec.m3_s = r.series(item["m3_s"], "m3_s", "m3/s", sim::flood::kMaxInflow_m3_s);
      // Records and injects name an inflow: two with one name could not be told apart.
      for (const auto& other : s.inflows)
        if (other.name == spec.name)
          r.bad(item["name"] ? item["name"] : item,
                fmt::format("inflow name '{}' is used twice (first at {}); give each inflow its own name", spec.name,
                            other.where));
      s.inflows.push_back(std::move(spec));
    }
  }
  if (const YAML::Node events = root["events"]) {
    if (!events.IsSequence()) r.bad(events, "'events' must be a list");
    for (const auto& item : events) {
      if (!item.IsMap()) r.bad(item, "each event is a mapping (at:, action:, target:...)");
      r.check_keys(item, {"at", "action", "target", "value", "program", "by"}, "an event");
      sim::engine::TimedAction a;
      a.where = at(file, item);
      if (!item["at"]) r.bad(item, "an event needs 'at'");
      a.t_s = r.time(item["at"], "at");
      if (a.t_s < 0.0 || a.t_s > s.duration_s)
        r.bad(item["at"], fmt::format("event at '{}' is outside the run ({} to {})", item["at"].Scalar(),
                                      clock_of(s, 0.0), clock_of(s, s.duration_s)));
      if (!item["action"]) r.bad(item, "an event needs 'action'");
      const std::string verb = r.text(item["action"], "action");
      const auto parsed = sim::engine::parse_verb(verb);
      if (!parsed)
        r.bad(item["action"], fmt::format("unknown action '{}' (known: {})", verb, fmt::join(sim::engine::verb_names(), ", ")));
      a.verb = *parsed;
      if (!item["target"]) r.bad(item, "an event needs 'target' (a road edge or traffic light id)");
      a.target = r.text(item["target"], "target");
      if (a.verb == sim::engine::Verb::speed_limit) {
        if (!item["value"]) r.bad(item, "speed_limit needs 'value' in km/h");
        a.value = r.number(item["value"], "value");
        if (!(a.value > 0.0 && a.value <= 150.0)) r.bad(item["value"], "a speed limit is between 0 and 150 km/h");
      }
      if (a.verb == sim::engine::Verb::light_program) {
        if (!item["program"]) r.bad(item, "light_program needs 'program'");
        a.program = r.text(item["program"], "program");
      }
      a.by = item["by"] ? r.text(item["by"], "by") : "scenario";
      s.events.push_back(std::move(a));
    }
  }
  if (const YAML::Node injects = root["injects"]) {
    if (!injects.IsSequence()) r.bad(injects, "'injects' must be a list");
    for (const auto& item : injects) {
      if (!item.IsMap()) r.bad(item, "each inject is a mapping (number:, time:, to:, message:...)");
      r.check_keys(item, {"number", "time", "type", "mode", "from", "to", "message", "expected", "objective", "notes", "effect"},
                   "an inject");
      const auto field = [&](const char* key) { return item[key] ? r.text(item[key], key) : std::string(); };
      InjectText text{field("number"), field("time"), field("type"),      field("mode"),  field("from"), "",
                      field("message"), field("expected"), field("objective"), field("notes"), field("effect")};
      if (const YAML::Node to = item["to"]; to && to.IsSequence()) {
        for (const auto& cell : to) text.to += (text.to.empty() ? "" : ";") + r.text(cell, "to");
      } else {
        text.to = field("to");
      }
      if (!item["time"]) r.bad(item, "an inject needs 'time' (07:40, manual, after N [+5min], when GAUGE > 2m)");
      Inject inject = read_inject(text, at(file, item), s.start_clock_s);
      inject.line = item.Mark().line + 1;
      if (inject.trigger == Inject::Trigger::at_time && (inject.time_s < 0.0 || inject.time_s > s.duration_s))
        r.bad(item["time"], fmt::format("inject at '{}' is outside the run ({} to {})", item["time"].Scalar(),
                                         clock_of(s, 0.0), clock_of(s, s.duration_s)));
      s.injects.push_back(std::move(inject));
    }
    check_injects(s.injects, file.string());
  }
  return s;
}

std::string clock_of(const Scenario& scenario, double t_s) {
  const long total = std::lround(scenario.start_clock_s + t_s);
  return fmt::format("{:02d}:{:02d}", total / 3600, (total / 60) % 60);
}

std::optional<double> time_since_start_s(const std::string& text, double start_clock_s) {
  if (text.find(':') != std::string::npos) {
    const auto c = clock_seconds(text);
    if (!c) return std::nullopt;
    return *c - start_clock_s;
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<double> parse_duration_s(const std::string& text) { return duration_seconds(text); }

std::optional<double> parse_number(std::string_view text) { return whole_number(text); }

std::optional<double> clock_of_iso(const std::string& iso) {
  const auto t = iso.find('T');
  if (t != 10 || iso.size() < 16) return std::nullopt;
  std::string clock = iso.substr(t + 1);
  // Drop a zone (Z, +02:00, -05:00) and fractions of a second.
  if (const auto zone = clock.find_first_of("Z+-"); zone != std::string::npos) clock.resize(zone);
  if (const auto dot = clock.find('.'); dot != std::string::npos) clock.resize(dot);
  return clock_seconds(clock);
}

sim::engine::EngineSetup engine_setup(const Scenario& scenario, const twin::Territory& territory) {
  sim::engine::EngineSetup setup;
  setup.duration_s = scenario.duration_s;
  setup.exchange_s = scenario.exchange_s;
  setup.access_every_s = scenario.access_every_s;
  setup.flood_cell_m = scenario.flood_cell_m;
  setup.seed = scenario.seed;
  setup.traffic = scenario.traffic;
  setup.traffic_model = scenario.traffic_model;
  setup.traffic_begin_s = scenario.start_clock_s;
  setup.actions = scenario.events;
  for (std::size_t k = 0; k < scenario.light_plans.size(); ++k) {
    const auto& plan = scenario.light_plans[k];
    const std::string& where = scenario.light_plans_where[k];
    if (!scenario.traffic) fail(where, "light plans need the traffic model, which this scenario turns off");
    if (!std::filesystem::is_regular_file(plan)) fail(where, "light plan {}: no such file", plan.string());
    std::vector<twin::TrafficLight> programs;
    try {
      programs = sim::traffic::read_programs(plan);
    } catch (const Error& e) {
      fail(where, "light plan {}: {}", plan.string(), e.what());
    }
    if (programs.empty()) fail(where, "light plan {} holds no light program (<tlLogic>)", plan.string());
    for (const auto& p : programs)
      if (!territory.network || !territory.network->find_traffic_light(p.id))
        fail(where, "light plan {}: light '{}' is not in the territory's network", plan.filename().string(), p.id);
    setup.light_plans.push_back(plan);
  }
  setup.meta.scenario = scenario.name;
  setup.meta.territory = territory.manifest.name;
  setup.meta.start_time_iso = scenario.start;

  const twin::GridSpec& grid = territory.grid();
  if (scenario.flood_cell_m > 0.0 && scenario.flood_cell_m < grid.cell_w_m - 1e-6)
    fail(scenario.flood_cell_where.empty() ? scenario.file.string() : scenario.flood_cell_where,
         "flood_cell_m {:g} m is finer than the cells of the territory's DEM ({:g} m, {}): the flood grid can only "
         "coarsen the DEM; give {:g} or more, or leave it out",
         scenario.flood_cell_m, grid.cell_w_m, territory.manifest.dem.filename().string(), grid.cell_w_m);
  auto find_sensor = [&](const std::string& id) -> const twin::Sensor* {
    for (const auto& s : territory.sensors)
      if (s.id == id) return &s;
    return nullptr;
  };
  for (const auto& in : scenario.inflows) {
    sim::flood::PointInflow p;
    p.label = in.name;
    p.discharge_m3_s = in.m3_s;
    if (in.sensor) {
      const twin::Sensor* s = find_sensor(*in.sensor);
      if (!s) fail(in.where, "unknown sensor '{}' for inflow '{}'", *in.sensor, in.name);
      p.location = s->location;
    } else {
      p.location = *in.location;
    }
    if (!grid.cell_at(p.location))
      fail(in.where, "inflow '{}' at ({:.1f}, {:.1f}) is outside the territory's DEM", in.name, p.location.x_m,
           p.location.y_m);
    setup.inflows.push_back(std::move(p));
  }

  // Rain: a territory-wide hyetograph without an area is uniform rain; every
  // other entry is a rain zone: gauges share the cells by nearest gauge, zones
  // and areas cover theirs, and each cell takes the last entry covering it.
  std::vector<const RainSpec*> zoned;
  std::vector<const RainSpec*> gauges;
  std::vector<twin::MapPoint> gauge_points;
  for (const auto& rain : scenario.rain) {
    if (rain.over == RainSpec::Over::territory && !rain.area) {
      if (setup.rain_mm_h) fail(rain.where, "only one rain entry may cover the whole territory");
      setup.rain_mm_h = rain.mm_h;
      continue;
    }
    if (rain.over == RainSpec::Over::gauge) {
      const twin::Sensor* s = find_sensor(rain.id);
      if (!s || s->kind != twin::SensorKind::rain_gauge) fail(rain.where, "unknown rain gauge '{}'", rain.id);
      gauges.push_back(&rain);
      gauge_points.push_back(s->location);
    }
    if (rain.over == RainSpec::Over::zone) {
      bool known = false;
      for (const auto& z : territory.zones) known = known || z.id == rain.id;
      if (!known) fail(rain.where, "unknown zone '{}'", rain.id);
    }
    zoned.push_back(&rain);
  }
  if (zoned.empty()) return setup;

  // Which gauge is nearest to each cell (index into `gauges`), then paint.
  twin::Raster nearest(grid, territory.dem.crs(), -1.0f);
  if (!gauges.empty()) {
    std::vector<TimeSeries> series;
    for (const RainSpec* g : gauges) series.push_back(g->mm_h);
    nearest = sim::flood::nearest_gauge_zones(grid, gauge_points, series).zone;
  }
  sim::flood::RainZones zones{twin::Raster(grid, territory.dem.crs(), -1.0f), {}};
  for (std::size_t k = 0; k < zoned.size(); ++k) {
    const RainSpec& rain = *zoned[k];
    const twin::PopulationZone* zone = nullptr;
    for (const auto& z : territory.zones)
      if (rain.over == RainSpec::Over::zone && z.id == rain.id) zone = &z;
    const std::size_t gauge_index = std::find(gauges.begin(), gauges.end(), zoned[k]) - gauges.begin();
    std::size_t covered = 0;
    for (int row = 0; row < grid.rows; ++row)
      for (int col = 0; col < grid.cols; ++col) {
        const twin::MapPoint c = grid.cell_centre({col, row});
        if (rain.area && (c.x_m < rain.area->x_min_m || c.x_m > rain.area->x_max_m || c.y_m < rain.area->y_min_m ||
                          c.y_m > rain.area->y_max_m))
          continue;
        if (rain.over == RainSpec::Over::gauge && nearest.at(col, row) != static_cast<float>(gauge_index)) continue;
        if (zone && !zone->area.contains(c)) continue;
        zones.zone.at(col, row) = static_cast<float>(k);
        ++covered;
      }
    if (covered == 0) fail(rain.where, "this rain entry covers no cell of the territory");
    zones.mm_h.push_back(rain.mm_h);
    setup.rain_zone_labels.push_back(rain.over == RainSpec::Over::territory ? "area" : rain.id);
  }
  setup.rain_zones = std::move(zones);
  return setup;
}

}  // namespace cadereau::scenarios
