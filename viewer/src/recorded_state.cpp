#include "cadereau/viewer/recorded_state.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cadereau::viewer {

const char* to_string(AssetStatus status) {
  switch (status) {
    case AssetStatus::failed: return "failed";
    case AssetStatus::cut_off: return "cut off";
    case AssetStatus::on_backup: return "on backup";
  }
  return "?";
}

void apply_record(RecordedState& state, const std::string& kind, const std::string& target) {
  if (kind == "road_closed") {
    state.closed_roads.insert(target);
  } else if (kind == "road_reopened") {
    state.closed_roads.erase(target);
  } else if (kind == "asset_failed") {
    state.assets[target] = AssetStatus::failed;
  } else if (kind == "asset_cut_off" || kind == "asset_on_backup") {
    const AssetStatus status = kind == "asset_cut_off" ? AssetStatus::cut_off : AssetStatus::on_backup;
    const auto it = state.assets.find(target);
    if (it == state.assets.end() || status < it->second) state.assets[target] = status;
  } else if (kind == "asset_recovered" || kind == "asset_reachable") {
    state.assets.erase(target);
  }
}

namespace {

// The records of `reader` up to `until_s` (and, first, its parents' up to
// where it forked from them).
void read_records(const twin::RecordingReader& reader, double until_s, RecordedState& state, int depth) {
  const twin::RecordingMeta& meta = reader.meta();
  if (!meta.parent_recording.empty() && depth < 16) {
    const std::filesystem::path parent = meta.parent_recording;
    std::error_code ec;
    if (std::filesystem::is_regular_file(parent, ec)) {
      const twin::RecordingReader up(parent);
      read_records(up, std::min(until_s, meta.fork_sim_s.value_or(until_s)), state, depth + 1);
    }
  }
  constexpr std::uint64_t kPage = 4096;
  for (std::uint64_t first = 0; first < reader.event_count(); first += kPage) {
    for (const twin::Event& e : reader.events(first, std::min(kPage, reader.event_count() - first))) {
      if (e.sim_s > until_s + 1e-6) return;
      if (e.source != "engine") continue;
      const nlohmann::json j = nlohmann::json::parse(e.payload, nullptr, false);
      if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string() || !j.contains("target") || !j["target"].is_string())
        continue;
      apply_record(state, j["kind"].get<std::string>(), j["target"].get<std::string>());
      ++state.records;
    }
  }
}

}  // namespace

RecordedState read_recorded_state(const std::filesystem::path& recording, std::optional<double> at_s) {
  if (at_s && !(std::isfinite(*at_s) && *at_s >= 0.0))
    fail(recording.string(), "the time to show must be a number of seconds >= 0, got {}", *at_s);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(recording, ec)) fail(recording.string(), "no such recording");
  const twin::RecordingReader reader(recording);
  RecordedState state;
  state.start_time_iso = reader.meta().start_time_iso;
  const std::vector<std::string> channels = reader.frame_channels();
  const bool has_depth = std::find(channels.begin(), channels.end(), "depth_m") != channels.end();
  const std::vector<double> frames = has_depth ? reader.frame_times_s("depth_m") : std::vector<double>{};
  const double last_event = reader.last_sim_s();
  state.end_s = std::max(frames.empty() ? 0.0 : frames.back(), std::isnan(last_event) ? 0.0 : last_event);
  state.at_s = at_s ? std::min(*at_s, state.end_s) : state.end_s;
  if (at_s && *at_s > state.end_s + 1e-6)
    fail(recording.string(), "asked for the state at {:.0f} s, but the recording ends at {:.0f} s", *at_s, state.end_s);
  const auto after = std::upper_bound(frames.begin(), frames.end(), state.at_s + 1e-6);
  if (after != frames.begin()) {
    if (auto frame = reader.frame_nearest("depth_m", *(after - 1))) {
      state.frame_time_s = frame->time_s;
      state.depth_m = std::move(frame->raster);
    }
  }
  read_records(reader, state.at_s, state, 0);
  return state;
}

}  // namespace cadereau::viewer
