#include "counterfactual.h"

#include "hdf5_lock.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <mutex>
#include <set>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;

constexpr const char* kSeries[] = {"people_at_risk", "roads_closed", "assets_out_of_service"};

}  // namespace

json figures_at(const std::vector<std::filesystem::path>& recordings, const std::vector<std::string>& records, double t_s) {
  json out = json::object();
  {
    std::lock_guard lock(hdf5_mutex());
    std::vector<twin::RecordingReader> readers;  // newest first, each opened once
    for (auto it = recordings.rbegin(); it != recordings.rend(); ++it) readers.emplace_back(*it);
    for (const char* name : kSeries) {
      out[name] = 0.0;
      for (const auto& reader : readers) {
        const auto series = reader.series(name);
        std::optional<double> value;
        for (std::size_t k = 0; k < series.time_s.size() && series.time_s[k] <= t_s + 1e-6; ++k) value = series.values[k];
        if (value) {
          out[name] = *value;
          break;
        }
      }
    }
  }
  std::set<std::string> failed, cut_off, degraded;
  for (const auto& line : records) {
    const json e = json::parse(line, nullptr, false);
    if (!e.is_object() || e.value("t_s", 0.0) > t_s + 1e-6) continue;
    const std::string kind = e.value("kind", std::string()), target = e.value("target", std::string());
    if (kind == "asset_failed") failed.insert(target);
    if (kind == "zone_unreachable") cut_off.insert(target);
    if (kind == "zone_access_degraded") degraded.insert(target);
  }
  out["assets_failed"] = failed.size();
  out["zones_cut_off"] = cut_off.size();
  out["zones_access_degraded"] = degraded.size();
  return out;
}

std::vector<std::string> recording_records(const std::filesystem::path& recording) {
  std::lock_guard lock(hdf5_mutex());
  const twin::RecordingReader reader(recording);
  std::vector<std::string> out;
  for (const auto& e : reader.events(0, reader.event_count())) {
    json j = json::parse(e.payload, nullptr, false);
    if (!j.is_object() || !j.contains("kind")) continue;
    j["t_s"] = e.sim_s;
    out.push_back(j.dump());
  }
  return out;
}

}  // namespace cadereau::server::service
