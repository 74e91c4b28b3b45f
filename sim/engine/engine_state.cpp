// The engine's state: captured whole at one time, written to a folder for a
// forecast worker, kept as keyframes in the recording for replay and forks,
// and resumed from.

#include "engine_impl.h"

#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <fstream>
#include <sstream>

namespace cadereau::sim::engine {

namespace {

constexpr char kFloodMagic[8] = {'C', 'A', 'D', 'F', 'L', 'D', '0', '1'};
constexpr const char* kStateFormat = "cadereau engine state 1";

void write_doubles(std::ofstream& out, const std::vector<double>& v) {
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
}

std::vector<double> read_doubles(std::ifstream& in, std::size_t n, const std::string& where) {
  std::vector<double> v(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(double)));
  if (!in) fail(where, "is truncated");
  return v;
}

std::string read_file(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), "cannot read {}", what);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& file, const std::string& bytes, const std::string& what) {
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail(file.string(), "cannot write {}", what);
}

// A scratch folder removed with everything in it when it goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cadereau-engine-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail(pattern, "cannot create a scratch folder");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string as_text(const std::vector<std::uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace

EngineState read_engine_state(const std::filesystem::path& dir) {
  EngineState state;
  state.engine_json = read_file(dir / "engine.json", "the engine state (was it written by cadereau run --save-state-at?)");
  try {
    const auto format = nlohmann::json::parse(state.engine_json).at("format");
    if (format != kStateFormat) fail((dir / "engine.json").string(), "unknown state format {}", format.dump());
  } catch (const nlohmann::json::exception& e) {
    fail((dir / "engine.json").string(), "not an engine state: {}", e.what());
  }
  const auto flood_file = dir / "flood.bin";
  std::ifstream in(flood_file, std::ios::binary);
  if (!in) fail(flood_file.string(), "cannot read the flood state");
  char magic[sizeof kFloodMagic] = {};
  std::uint64_t cols = 0, rows = 0;
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(&cols), sizeof cols);
  in.read(reinterpret_cast<char*>(&rows), sizeof rows);
  in.read(reinterpret_cast<char*>(&state.water.time_s), sizeof state.water.time_s);
  if (!in || !std::equal(magic, magic + sizeof magic, kFloodMagic)) fail(flood_file.string(), "not a flood state");
  if (cols == 0 || rows == 0 || cols > (1u << 20) || rows > (1u << 20) || cols * rows > (1ull << 32))
    fail(flood_file.string(), "a {} x {} grid is not a flood grid", cols, rows);
  const std::size_t n = cols * rows;
  state.water.depth_m = read_doubles(in, n, flood_file.string());
  state.water.discharge_east_m2_s = read_doubles(in, n, flood_file.string());
  state.water.discharge_north_m2_s = read_doubles(in, n, flood_file.string());
  if (std::filesystem::exists(dir / "sumo_state.xml")) state.sumo_state = read_file(dir / "sumo_state.xml", "SUMO's state");
  return state;
}

EngineState engine_state_from_keyframe(const twin::Keyframe& keyframe, const std::string& where) {
  EngineState state;
  try {
    state.water.time_s = keyframe.sim_s;
    state.water.depth_m = keyframe.array(flood::kStateDepth);
    state.water.discharge_east_m2_s = keyframe.array(flood::kStateDischargeEast);
    state.water.discharge_north_m2_s = keyframe.array(flood::kStateDischargeNorth);
    state.sumo_state = as_text(keyframe.blob(kKeyframeSumoState));
    state.engine_json = as_text(keyframe.blob(kKeyframeEngineState));
  } catch (const Error& e) {
    fail(where, "keyframe at {} s is not an engine keyframe: {}", keyframe.sim_s, e.what_only());
  }
  return state;
}

EngineState Engine::capture_state() const {
  const auto& im = *impl_;
  EngineState state;
  state.water = flood_->capture();
  if (im.traffic) {
    ScratchDir scratch;
    im.traffic->save_state(scratch.path() / "sumo_state.xml");
    state.sumo_state = read_file(scratch.path() / "sumo_state.xml", "SUMO's state");
  }

  nlohmann::json j;
  j["format"] = kStateFormat;
  j["time_s"] = time_s_;
  j["territory"] = std::filesystem::absolute(territory_.manifest.folder).string();
  j["traffic"] = im.traffic != nullptr;
  j["edges"] = im.edges.size();
  nlohmann::json edges = nlohmann::json::array();
  for (std::size_t e = 0; e < im.edges.size(); ++e) {
    const auto& ef = im.edges[e];
    if (!ef.closed_by_water && !ef.closed_by_action && ef.limit_kmh == 0.0 && !ef.ever_flooded && !ef.water_record) continue;
    edges.push_back({{"edge", e},
                     {"closed_by_water", ef.closed_by_water},
                     {"closed_by_action", ef.closed_by_action},
                     {"action_verb", ef.action_verb ? to_string(*ef.action_verb) : ""},
                     {"water_record", ef.water_record},
                     {"closure_record", ef.closure_record},
                     {"limit_kmh", ef.limit_kmh},
                     {"ever_flooded", ef.ever_flooded},
                     {"max_depth_m", edge_max_depth_[e]}});
  }
  j["edge_states"] = edges;
  j["inflow_root"] = im.inflow_root;
  j["inflow_level"] = im.inflow_level;
  j["rain_root"] = im.rain_root;
  j["rain_level"] = im.rain_level;
  j["zone_rain_root"] = im.zone_rain_root;
  j["zone_rain_level"] = im.zone_rain_level;
  j["next_access_s"] = im.next_access_s;
  j["access_due_s"] = im.access_due_s ? nlohmann::json(*im.access_due_s) : nlohmann::json();
  j["baseline_route"] = im.baseline_route;
  j["stalled_count"] = stalled_vehicles_;
  // The flood's own balance restarts from the restored water; the water the
  // gauges moved before the save is counted on here.
  j["nudged_water"] = {{"added_m3", nudged_.added_m3}, {"removed_m3", nudged_.removed_m3}, {"nudges", nudged_.nudges}};
  // The forcing as it stands, changes by injects and feeds included: a run
  // resumed from here goes on with it, not with the scenario's.
  const auto series = [](const flood::TimeSeries& ts) {
    nlohmann::json points = nlohmann::json::array();
    for (std::size_t k = 0; k < ts.times_s().size(); ++k) points.push_back({ts.times_s()[k], ts.values()[k]});
    return points;
  };
  nlohmann::json forcing = {{"inflows", nlohmann::json::array()}, {"zone_rain", nlohmann::json::array()}};
  for (const auto& in : setup_.inflows) forcing["inflows"].push_back(series(in.discharge_m3_s));
  if (setup_.rain_mm_h) forcing["rain"] = series(*setup_.rain_mm_h);
  if (setup_.rain_zones)
    for (const auto& z : setup_.rain_zones->mm_h) forcing["zone_rain"].push_back(z.empty() ? nlohmann::json::array() : series(z));
  j["forcing"] = std::move(forcing);
  // Actions submitted while running (not the setup's own), applied or still
  // to come: a resumed run puts their light plans and speed limits back and
  // applies the rest when their time comes.
  nlohmann::json submitted = nlohmann::json::array();
  for (std::size_t k = 0; k < im.actions.size(); ++k)
    if (!std::isnan(im.action_taken_s[k]))
      submitted.push_back({{"command", nlohmann::json::parse(command_json(im.actions[k]))}, {"taken_s", im.action_taken_s[k]}});
  j["submitted_actions"] = std::move(submitted);
  j["units_sent"] = im.units_sent;
  nlohmann::json units = nlohmann::json::array();
  for (const auto& u : im.units)
    units.push_back({{"unit", u.unit}, {"vehicle", u.vehicle}, {"from", u.from}, {"to", u.to},
                     {"from_edge", u.from_edge}, {"to_edge", u.to_edge}, {"to_xy", {u.to_place.x_m, u.to_place.y_m}},
                     {"depart_s", u.depart_s}, {"sumo_depart_s", u.sumo_depart_s}, {"free_flow_s", std::isfinite(u.free_flow_s) ? u.free_flow_s : -1.0},
                     {"free_flow_edges", u.free_flow_edges}, {"dispatch_record", u.dispatch_record},
                     {"closures", u.closures}});
  j["units"] = std::move(units);
  // Counts being followed: SUMO's state does not hold its calibrators' flows.
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& c : im.counted)
    if (c.followed_until_s > time_s_)
      counts.push_back({{"edge", c.edge_id}, {"veh_per_h", c.followed_veh_per_h}, {"until_s", c.followed_until_s}});
  j["counts_followed"] = std::move(counts);
  j["impacts"] = impacts_->save_state();
  j["log"] = log_.save();
  state.engine_json = j.dump();
  return state;
}

void Engine::save_state(const std::filesystem::path& dir) const {
  std::error_code made;
  std::filesystem::create_directories(dir, made);
  if (made) fail(dir.string(), "cannot create the state folder: {}", made.message());
  const EngineState state = capture_state();
  {
    const auto file = dir / "flood.bin";
    std::ofstream out(file, std::ios::binary);
    const std::uint64_t cols = static_cast<std::uint64_t>(flood_->grid().cols);
    const std::uint64_t rows = static_cast<std::uint64_t>(flood_->grid().rows);
    out.write(kFloodMagic, sizeof kFloodMagic);
    out.write(reinterpret_cast<const char*>(&cols), sizeof cols);
    out.write(reinterpret_cast<const char*>(&rows), sizeof rows);
    out.write(reinterpret_cast<const char*>(&state.water.time_s), sizeof state.water.time_s);
    write_doubles(out, state.water.depth_m);
    write_doubles(out, state.water.discharge_east_m2_s);
    write_doubles(out, state.water.discharge_north_m2_s);
    if (!out) fail(file.string(), "cannot write the flood state");
  }
  if (impl_->traffic) write_file(dir / "sumo_state.xml", state.sumo_state, "SUMO's state");
  write_file(dir / "engine.json", state.engine_json + "\n", "the engine state");
}

void Engine::resume(const EngineState& state, const std::string& where) {
  auto& im = *impl_;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(state.engine_json);
  } catch (const nlohmann::json::exception& e) {
    fail(where, "not an engine state: {}", e.what());
  }
  try {
    if (j.at("format") != kStateFormat) fail(where, "unknown state format {}", j.at("format").dump());
    if (j.at("traffic").get<bool>() != (im.traffic != nullptr))
      fail(where, "the state was saved with traffic {}, this run has it {}", j.at("traffic").get<bool>() ? "on" : "off",
           im.traffic ? "on" : "off");
    if (j.at("edges").get<std::size_t>() != im.edges.size())
      fail(where, "the state has {} road edges, this territory {}", j.at("edges").get<std::size_t>(), im.edges.size());
    const double t = j.at("time_s").get<double>();
    if (!(t >= 0.0) || t >= setup_.duration_s) fail(where, "saved at {} s, outside this run (0 to {} s)", t, setup_.duration_s);
    if (state.water.depth_m.size() != flood_->grid().cell_count())
      fail(where, "the state's water covers {} cells, the flood grid here has {} ({} x {})", state.water.depth_m.size(),
           flood_->grid().cell_count(), flood_->grid().cols, flood_->grid().rows);
    flood_->restore(state.water);

    log_.restore(j.at("log").get<std::string>());
    impacts_->restore_state(j.at("impacts").get<std::string>());
    im.inflow_root = j.at("inflow_root").get<std::vector<std::uint64_t>>();
    im.inflow_level = j.at("inflow_level").get<std::vector<std::size_t>>();
    im.rain_root = j.at("rain_root").get<std::uint64_t>();
    im.rain_level = j.at("rain_level").get<std::size_t>();
    im.zone_rain_root = j.at("zone_rain_root").get<std::vector<std::uint64_t>>();
    im.zone_rain_level = j.at("zone_rain_level").get<std::vector<std::size_t>>();
    if (im.inflow_root.size() != setup_.inflows.size() || im.zone_rain_root.size() != im.zone_rain_level.size() ||
        (setup_.rain_zones && im.zone_rain_root.size() != setup_.rain_zones->mm_h.size()))
      fail(where, "the state was saved with other inflows or rain zones than this scenario's");
    if (j.contains("forcing")) {
      const auto& forcing = j["forcing"];
      const auto series = [&](const nlohmann::json& points) {
        std::vector<double> times, values;
        for (const auto& p : points) times.push_back(p.at(0).get<double>()), values.push_back(p.at(1).get<double>());
        return flood::TimeSeries(std::move(times), std::move(values), where);
      };
      const auto& inflows = forcing.at("inflows");
      if (inflows.size() != setup_.inflows.size())
        fail(where, "the state's forcing has {} inflows, this scenario {}", inflows.size(), setup_.inflows.size());
      for (std::size_t k = 0; k < inflows.size(); ++k) {
        setup_.inflows[k].discharge_m3_s = series(inflows[k]);
        flood_->replace_inflow(k, t, setup_.inflows[k].discharge_m3_s);
      }
      if (forcing.contains("rain")) {
        setup_.rain_mm_h = series(forcing["rain"]);
        flood_->replace_rain(t, *setup_.rain_mm_h);
      }
      const auto& zones = forcing.at("zone_rain");
      if (setup_.rain_zones && zones.size() == setup_.rain_zones->mm_h.size())
        for (std::size_t z = 0; z < zones.size(); ++z)
          if (!zones[z].empty()) {
            setup_.rain_zones->mm_h[z] = series(zones[z]);
            flood_->replace_zone_rain(z, t, setup_.rain_zones->mm_h[z]);
          }
    }
    for (const auto& a : j.value("submitted_actions", nlohmann::json::array())) {
      const auto command = command_from_json(a.at("command").dump(), where);
      if (!std::holds_alternative<TimedAction>(command)) fail(where, "a submitted action that is not an action");
      auto action = std::get<TimedAction>(command);
      const auto at = std::upper_bound(im.actions.begin(), im.actions.end(), action.t_s,
                                       [](double time, const TimedAction& b) { return time < b.t_s; });
      const auto index = at - im.actions.begin();
      im.actions.insert(at, std::move(action));
      im.action_taken_s.insert(im.action_taken_s.begin() + index, a.at("taken_s").get<double>());
    }
    im.next_access_s = j.at("next_access_s").get<double>();
    im.access_due_s.reset();
    if (j.contains("access_due_s") && !j["access_due_s"].is_null()) im.access_due_s = j["access_due_s"].get<double>();
    im.baseline_route = j.at("baseline_route").get<std::vector<std::vector<std::size_t>>>();
    stalled_vehicles_ = j.at("stalled_count").get<long>();
    if (j.contains("nudged_water")) {  // states from before nudging have none
      const auto& n = j["nudged_water"];
      nudged_.added_m3 = n.at("added_m3").get<double>();
      nudged_.removed_m3 = n.at("removed_m3").get<double>();
      nudged_.nudges = n.at("nudges").get<std::size_t>();
    }
    // Units on their way (states from before units existed have none).
    im.units_sent = j.value("units_sent", std::uint64_t{0});
    im.units.clear();
    for (const auto& u : j.value("units", nlohmann::json::array())) {
      Impl::UnitTrip trip;
      trip.unit = u.at("unit").get<std::string>();
      trip.vehicle = u.at("vehicle").get<std::string>();
      trip.from = u.at("from").get<std::string>();
      trip.to = u.at("to").get<std::string>();
      trip.from_edge = u.at("from_edge").get<std::string>();
      trip.to_edge = u.at("to_edge").get<std::string>();
      trip.to_place = {u.at("to_xy").at(0).get<double>(), u.at("to_xy").at(1).get<double>()};
      trip.depart_s = u.at("depart_s").get<double>();
      trip.sumo_depart_s = u.at("sumo_depart_s").get<double>();
      const double free_flow = u.at("free_flow_s").get<double>();
      trip.free_flow_s = free_flow < 0.0 ? std::numeric_limits<double>::infinity() : free_flow;
      trip.free_flow_edges = u.at("free_flow_edges").get<std::vector<std::size_t>>();
      trip.dispatch_record = u.at("dispatch_record").get<std::uint64_t>();
      trip.closures = u.at("closures").get<std::vector<std::uint64_t>>();
      for (std::size_t e : trip.free_flow_edges)
        if (e >= im.edges.size()) fail(where, "unit {} goes by edge index {}, past the network's {}", trip.unit, e, im.edges.size());
      im.units.push_back(std::move(trip));
    }
    {
      std::lock_guard lock(im.pending_mutex);
      im.unit_names.clear();
      for (const auto& u : im.units) im.unit_names.push_back(u.unit);
    }
    for (const auto& r : log_.all())
      if (r.kind == impact::kind::people_at_risk) people_at_risk_ += r.people;
    for (const auto& es : j.at("edge_states")) {
      const auto e = es.at("edge").get<std::size_t>();
      if (e >= im.edges.size()) fail(where, "edge index {} is past the network's {}", e, im.edges.size());
      auto& ef = im.edges[e];
      ef.closed_by_water = es.at("closed_by_water").get<bool>();
      ef.closed_by_action = es.at("closed_by_action").get<bool>();
      const auto verb = es.at("action_verb").get<std::string>();
      ef.action_verb = parse_verb(verb);
      if (!verb.empty() && !ef.action_verb) fail(where, "edge {} was closed by an unknown action '{}'", e, verb);
      ef.water_record = es.at("water_record").get<std::uint64_t>();
      ef.closure_record = es.at("closure_record").get<std::uint64_t>();
      ef.limit_kmh = es.at("limit_kmh").get<double>();
      ef.ever_flooded = es.at("ever_flooded").get<bool>();
      edge_max_depth_[e] = es.at("max_depth_m").get<double>();
    }

    // SUMO: its own state, then what its state file does not hold: closures,
    // speed limits, light actions and dark lights.
    if (im.traffic) {
      if (state.sumo_state.empty()) fail(where, "the state holds no SUMO state");
      {
        ScratchDir scratch;
        write_file(scratch.path() / "sumo_state.xml", state.sumo_state, "SUMO's state");
        teleports_put_back_ = im.traffic->load_state(scratch.path() / "sumo_state.xml");
      }
      for (const auto& u : im.units) im.traffic->follow_emergency({u.vehicle, u.from_edge, u.to_edge, u.sumo_depart_s, std::nullopt});
      const auto& net = *territory_.network;
      for (std::size_t e = 0; e < im.edges.size(); ++e) {
        const auto& ef = im.edges[e];
        const std::string& id = net.edges()[e].id;
        if (ef.closed_by_action && ef.action_verb == Verb::lower_bollard)
          im.traffic->lower_bollard(id);
        else if (ef.closed_by_action && ef.action_verb == Verb::close_road_to_traffic)
          im.traffic->set_edge_access(id, traffic::Access::emergency_only);
        if ((ef.closed_by_action && ef.action_verb == Verb::close_road) || ef.closed_by_water)
          im.traffic->set_edge_access(id, traffic::Access::closed);
        if (!ef.closed_by_water && ef.limit_kmh > 0.0) im.traffic->set_speed_limit(id, ef.limit_kmh / 3.6);
      }
      // Speed limits and light plans set by actions, replayed in order (a
      // later restore undoes an earlier change, as it did in the saved run).
      for (const auto& a : im.actions) {
        if (a.t_s > t + 1e-9) break;
        apply_to_traffic(a);
      }
      for (std::size_t a = 0; a < territory_.assets.size(); ++a)
        if (territory_.assets[a].type == twin::AssetType::traffic_signal &&
            impacts_->status(a) == impact::AssetStatus::out_of_service &&
            net.find_traffic_light(territory_.assets[a].tls_id))
          im.traffic->set_light_off(territory_.assets[a].tls_id);
      // Counts followed when the state was saved go on to the end of their
      // windows (not when this run follows none: a forecast's traffic goes its own way).
      for (const auto& c : j.value("counts_followed", nlohmann::json::array())) {
        const auto edge = c.at("edge").get<std::string>();
        const auto counted = std::find_if(im.counted.begin(), im.counted.end(),
                                          [&](const Impl::CountedEdge& k) { return k.edge_id == edge; });
        const double until_s = c.at("until_s").get<double>();
        if (counted == im.counted.end() || until_s <= t) continue;
        counted->followed_veh_per_h = c.at("veh_per_h").get<double>();
        counted->followed_until_s = until_s;
        im.traffic->follow_count(edge, counted->followed_veh_per_h, std::nullopt, until_s - t);
      }
    }
    while (im.next_action < im.actions.size() && im.actions[im.next_action].t_s <= t + 1e-9) ++im.next_action;
    im.reacted = im.recorded = log_.size();
    time_s_ = t;
  } catch (const nlohmann::json::exception& e) {
    fail(where, "not an engine state: {}", e.what());
  }
}

}  // namespace cadereau::sim::engine
