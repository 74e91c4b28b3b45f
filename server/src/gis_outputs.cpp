#include "gis_outputs.h"

#include "record_words.h"

#include "cadereau/twin/vector.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <utility>

namespace cadereau::server {

namespace kind = sim::impact::kind;

std::string story_text(const ReportInputs& in, std::uint64_t id, const char* arrow, bool with_record) {
  const auto& territory = in.engine->territory();
  // A street's sections, or a stream rising step by step, are one step of
  // the story: the first record of a kind at a place tells it, with the
  // count and the time of the last of the others.
  struct Step {
    const sim::impact::Impact* first;
    int more = 0;
    double last_s = 0.0;
  };
  std::vector<Step> steps;
  std::map<std::pair<std::string, std::string>, std::size_t> step_of;
  for (const sim::impact::Impact* r : story_of(in.engine->log(), id)) {
    if (!with_record && r->id == id) continue;
    const auto key = std::make_pair(r->kind, target_name(territory, *r));
    const auto [it, added] = step_of.emplace(key, steps.size());
    if (added || r->id == id) {
      steps.push_back({r, 0, r->t_s});
      continue;
    }
    ++steps[it->second].more;
    steps[it->second].last_s = r->t_s;
  }
  std::string text;
  for (const auto& step : steps) {
    if (!text.empty()) text += arrow;
    text += scenarios::clock_of(*in.scenario, step.first->t_s) + " " + record_phrase(territory, *step.first);
    if (step.more > 0)
      text += fmt::format(" [and {} more to {}]", step.more, scenarios::clock_of(*in.scenario, step.last_s));
  }
  return text;
}

void write_impacts_geojson(const ReportInputs& in) {
  const auto& territory = in.engine->territory();
  const twin::Box extent = territory.grid().extent();
  std::vector<twin::Feature> features;
  for (const auto& r : in.engine->log().all()) {
    if (!extent.contains(r.place)) continue;  // no place on the map
    twin::Feature f;
    f.fid = static_cast<std::int64_t>(r.id);
    f.kind = twin::GeometryKind::point;
    f.point = r.place;
    f.attributes["id"] = static_cast<std::int64_t>(r.id);
    f.attributes["t_s"] = r.t_s;
    f.attributes["clock"] = scenarios::clock_of(*in.scenario, r.t_s);
    f.attributes["kind"] = r.kind;
    f.attributes["what"] = kind_in_words(r.kind);
    f.attributes["target"] = r.target;
    f.attributes["name"] = target_name(territory, r);
    f.attributes["detail"] = r.detail;
    f.attributes["people"] = r.people;
    f.attributes["hazard"] = r.kind == kind::inflow || r.kind == kind::rain;
    f.attributes["causes"] = fmt::format("{}", fmt::join(r.causes, ","));
    f.attributes["story"] = story_text(in, r.id);
    features.push_back(std::move(f));
  }
  twin::write_vector(features, territory.crs, in.dir / "impacts.geojson", "impacts");
}

void write_closed_roads_geojson(const ReportInputs& in, const std::vector<StreetClosure>& streets) {
  std::vector<twin::Feature> features;
  for (const auto& s : streets) {
    twin::Feature f;
    f.fid = static_cast<std::int64_t>(features.size());
    f.kind = twin::GeometryKind::line;
    f.lines = s.sections;
    f.attributes["street"] = s.name;
    f.attributes["first_closed"] = scenarios::clock_of(*in.scenario, s.first_closed_s);
    f.attributes["first_closed_t_s"] = s.first_closed_s;
    f.attributes["sections"] = static_cast<std::int64_t>(s.sections.size());
    f.attributes["length_km"] = s.length_m / 1000.0;
    f.attributes["closed_by_water"] = s.by_water;
    f.attributes["closed_by_order"] = s.by_order;
    f.attributes["max_depth_m"] = s.max_depth_m;
    f.attributes["closed_at_end"] = s.closed_at_end;
    if (s.reopened_s) {
      f.attributes["reopened"] = scenarios::clock_of(*in.scenario, *s.reopened_s);
      f.attributes["reopened_t_s"] = *s.reopened_s;
    }
    f.attributes["edges"] = fmt::format("{}", fmt::join(s.edge_ids, ","));
    f.attributes["why"] = story_text(in, s.first_record);
    features.push_back(std::move(f));
  }
  twin::write_vector(features, in.engine->territory().crs, in.dir / "closed_roads.geojson", "closed_roads");
}

}  // namespace cadereau::server
