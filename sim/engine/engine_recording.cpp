#include "engine_recording.h"

#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/flood_run.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cadereau::sim::engine {

namespace {

twin::RecordingLayout layout_of(const EngineSetup& setup, const twin::Territory& territory, const twin::GridSpec& grid,
                                const twin::Crs& crs, const std::vector<GaugeSeries>& gauges,
                                std::vector<std::string> traffic_edges, bool keyframes) {
  twin::RecordingLayout layout;
  layout.meta = setup.meta;
  layout.meta.crs_wkt = crs.wkt();
  layout.frames.push_back({"depth_m", grid, crs.wkt(), "m", flood::FloodModel::kNodata, "water depth"});
  if (!traffic_edges.empty()) {
    layout.edge_channels.push_back({kTrafficVehicles, traffic_edges, "vehicles", "vehicles on the road edge"});
    layout.edge_channels.push_back({kTrafficSpeedRatio, std::move(traffic_edges), "1",
                                    "mean speed of the vehicles on the road edge over its speed limit in the "
                                    "network (1 when empty)"});
  }
  layout.series = {"roads_closed", "people_at_risk", "assets_out_of_service", "vehicles_running"};
  layout.series_info = {
      {"roads_closed", {"road edges", "road edges closed now (by water or by an action), each direction counted", ""}},
      {"people_at_risk", {"people", "people in vehicles caught by water since the start", ""}},
      {"assets_out_of_service", {"assets", "assets out of service now", ""}},
      {"vehicles_running", {"vehicles", "vehicles on the road network or waiting to enter it", ""}}};
  const std::string& datum = territory.manifest.vertical_datum;
  for (const auto& g : gauges) {
    layout.series.push_back("gauge_" + g.id + "_wse_m");
    layout.series_info["gauge_" + g.id + "_wse_m"] = {
        "m", fmt::format("water-surface elevation at level gauge {} (bed at {:.2f} m)", g.name, g.bed_m),
        datum.empty() ? "as the territory's DEM (territory.yaml gives no vertical_datum)" : datum};
  }
  if (keyframes) {
    using Field = twin::KeyframeFieldLayout;
    const std::size_t cells = grid.cell_count();
    layout.keyframe_fields = {{flood::kStateDepth, Field::Type::float64_array, cells},
                              {flood::kStateDischargeEast, Field::Type::float64_array, cells},
                              {flood::kStateDischargeNorth, Field::Type::float64_array, cells},
                              {kKeyframeSumoState, Field::Type::blob, 0},
                              {kKeyframeEngineState, Field::Type::blob, 0}};
  }
  return layout;
}

twin::EventKind event_kind_of(const std::string& record_kind) {
  if (record_kind == impact::kind::action || record_kind == impact::kind::unit_dispatched)
    return twin::EventKind::operator_action;
  if (record_kind == impact::kind::inflow || record_kind == impact::kind::rain ||
      record_kind == impact::kind::forcing_changed)
    return twin::EventKind::inject;
  return twin::EventKind::impact;
}

}  // namespace

EngineRecording::EngineRecording(const std::filesystem::path& file, const EngineSetup& setup,
                                 const twin::Territory& territory, const twin::GridSpec& grid, const twin::Crs& crs,
                                 const std::vector<GaugeSeries>& gauges, std::vector<std::string> traffic_edges,
                                 bool keyframes)
    : recorder_(file, layout_of(setup, territory, grid, crs, gauges, std::move(traffic_edges), keyframes)) {
  recorder_.append(twin::EventKind::simulation_event, 0.0, "engine",
                   nlohmann::json{{"event", "run_start"},
                                  {"duration_s", setup.duration_s},
                                  {"exchange_s", setup.exchange_s},
                                  {"traffic", setup.traffic},
                                  {"seed", setup.seed}}
                       .dump());
}

void EngineRecording::on_exchange(const ExchangeReport& report) {
  for (const auto& o : report.observations) {
    nlohmann::json j = nlohmann::json::parse(command_json(o.command));
    j["taken_s"] = o.taken_s;
    const auto& source = command_by(o.command);
    recorder_.append(twin::EventKind::observation, o.taken_s, source.empty() ? "observation" : source.substr(0, 64),
                     j.dump());
  }
  for (std::size_t i = 0; i < report.new_records.size(); ++i) {
    const impact::Impact& r = report.new_records[i];
    nlohmann::json j{{"id", r.id},       {"kind", r.kind},   {"target", r.target}, {"x_m", r.place.x_m},
                     {"y_m", r.place.y_m}, {"detail", r.detail}, {"people", r.people}, {"causes", r.causes}};
    if (!report.record_commands[i].empty()) j["command"] = nlohmann::json::parse(report.record_commands[i]);
    // The index's cause: the event of the record's first cause, when this
    // recording holds it (a resumed run's earlier records are in its parent's).
    std::uint64_t cause_seq = 0;
    if (!r.causes.empty())
      if (const auto e = event_of_record_.find(r.causes.front()); e != event_of_record_.end()) cause_seq = e->second;
    event_of_record_[r.id] = recorder_.append(event_kind_of(r.kind), r.t_s, "engine", j.dump(), cause_seq);
  }
  for (const auto& n : report.notes)
    recorder_.append(twin::EventKind::audit, report.t_s, n.source.empty() ? "note" : n.source.substr(0, 64), n.payload);
  for (const auto& g : report.gauges) recorder_.append_sample(fmt::format("gauge_{}_wse_m", g.id), report.t_s, g.wse_m);
  recorder_.append_sample("roads_closed", report.t_s, static_cast<double>(report.kpis.roads_closed));
  recorder_.append_sample("people_at_risk", report.t_s, report.kpis.people_at_risk);
  recorder_.append_sample("assets_out_of_service", report.t_s, static_cast<double>(report.kpis.assets_out_of_service));
  recorder_.append_sample("vehicles_running", report.t_s, static_cast<double>(report.kpis.vehicles_running));
  if (report.depth) recorder_.append_frame("depth_m", report.t_s, report.depth->values());
  if (!report.traffic.empty()) {
    vehicles_.resize(report.traffic.size());
    speed_ratio_.resize(report.traffic.size());
    for (std::size_t i = 0; i < report.traffic.size(); ++i) {
      vehicles_[i] = static_cast<float>(report.traffic[i].vehicles);
      speed_ratio_[i] = report.traffic[i].speed_ratio;
    }
    recorder_.append_edge_values(kTrafficVehicles, report.t_s, vehicles_);
    recorder_.append_edge_values(kTrafficSpeedRatio, report.t_s, speed_ratio_);
  }
}

void EngineRecording::keyframe(double t_s, const EngineState& state) {
  const auto bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  const std::vector<twin::KeyframeField> fields{
      {flood::kStateDepth, state.water.depth_m, {}},
      {flood::kStateDischargeEast, state.water.discharge_east_m2_s, {}},
      {flood::kStateDischargeNorth, state.water.discharge_north_m2_s, {}},
      {kKeyframeSumoState, {}, bytes(state.sumo_state)},
      {kKeyframeEngineState, {}, bytes(state.engine_json)},
  };
  recorder_.append_keyframe(t_s, fields);
}

void EngineRecording::on_end(double t_s) {
  recorder_.append(twin::EventKind::simulation_event, t_s, "engine", nlohmann::json{{"event", "run_end"}}.dump());
  recorder_.close();
}

}  // namespace cadereau::sim::engine
