#include "cadereau/sim/impact/impact_log.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::impact {

std::string clock_text(double t_s) {
  const long minutes = std::lround(std::floor(t_s / 60.0));
  return fmt::format("{:d}:{:02d}", minutes / 60, minutes % 60);
}

std::uint64_t ImpactLog::add(Impact impact) {
  const std::uint64_t id = impacts_.size() + 1;
  for (std::uint64_t cause : impact.causes)
    if (cause == 0 || cause >= id)
      fail("impact log", "record {} '{}' of {} names cause {}, which is not an earlier record", id, impact.kind,
           impact.target, cause);
  impact.id = id;
  impacts_.push_back(std::move(impact));
  return id;
}

std::uint64_t ImpactLog::add(double t_s, std::string kind, std::string target, twin::MapPoint place,
                             std::string detail, std::vector<std::uint64_t> causes, double people) {
  Impact i;
  i.t_s = t_s;
  i.kind = std::move(kind);
  i.target = std::move(target);
  i.place = place;
  i.detail = std::move(detail);
  i.people = people;
  causes.erase(std::remove(causes.begin(), causes.end(), std::uint64_t{0}), causes.end());
  i.causes = std::move(causes);
  return add(std::move(i));
}

const Impact& ImpactLog::at(std::uint64_t id) const {
  if (id == 0 || id > impacts_.size()) fail("impact log", "no record {} (the log holds {})", id, impacts_.size());
  return impacts_[id - 1];
}

std::vector<const Impact*> ImpactLog::chain(std::uint64_t id) const {
  std::vector<const Impact*> out;
  std::vector<bool> seen(impacts_.size() + 1, false);
  // Depth first over causes; causes are always earlier records, so this ends.
  std::vector<std::uint64_t> stack;
  const auto& first = at(id).causes;
  for (auto it = first.rbegin(); it != first.rend(); ++it) stack.push_back(*it);
  while (!stack.empty()) {
    const std::uint64_t c = stack.back();
    stack.pop_back();
    if (seen[c]) continue;
    seen[c] = true;
    const Impact& record = at(c);
    out.push_back(&record);
    for (auto it = record.causes.rbegin(); it != record.causes.rend(); ++it)
      if (!seen[*it]) stack.push_back(*it);
  }
  return out;
}

std::string ImpactLog::describe(const Impact& impact) {
  std::string text = fmt::format("{} {} at {}", impact.kind, impact.target, clock_text(impact.t_s));
  if (!impact.detail.empty()) text += fmt::format(" ({})", impact.detail);
  return text;
}

std::string ImpactLog::save() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : impacts_)
    list.push_back({{"id", i.id}, {"t_s", i.t_s}, {"kind", i.kind}, {"target", i.target}, {"x_m", i.place.x_m},
                    {"y_m", i.place.y_m}, {"detail", i.detail}, {"people", i.people}, {"causes", i.causes}});
  return list.dump();
}

void ImpactLog::restore(const std::string& text) {
  std::vector<Impact> restored;
  try {
    for (const auto& j : nlohmann::json::parse(text)) {
      Impact i;
      i.id = j.at("id").get<std::uint64_t>();
      i.t_s = j.at("t_s").get<double>();
      i.kind = j.at("kind").get<std::string>();
      i.target = j.at("target").get<std::string>();
      i.place = {j.at("x_m").get<double>(), j.at("y_m").get<double>()};
      i.detail = j.at("detail").get<std::string>();
      i.people = j.at("people").get<double>();
      i.causes = j.at("causes").get<std::vector<std::uint64_t>>();
      if (i.id != restored.size() + 1) fail("impact log", "record {} where {} was expected", i.id, restored.size() + 1);
      for (auto c : i.causes)
        if (c == 0 || c >= i.id) fail("impact log", "record {} names cause {}, not an earlier record", i.id, c);
      restored.push_back(std::move(i));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("impact log", "not a saved log: {}", e.what());
  }
  impacts_ = std::move(restored);
}

}  // namespace cadereau::sim::impact
