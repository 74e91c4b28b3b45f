// Session: its population alerts and its after-action review (see session.h).

#include "session.h"

#include "after_action.h"
#include "data_files.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>

namespace cadereau::server::service {

using json = nlohmann::json;

std::string by_text_of(const Principal& p) { return fmt::format("{}:{}", to_string(p.role), p.user); }

AlertBook& Session::alert_book_locked() const {
  if (!alert_book_) fail_as(ErrorCategory::conflict, id_, "is a replay: nothing is sent from history");
  return *alert_book_;
}

json Session::send_alert(const AlertRequest& alert, const Principal& by) {
  std::lock_guard lock(mutex_);
  auto& book = alert_book_locked();
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  std::string status = "Exercise", state = "sent";
  if (mode_ == SessionMode::exercise) {
    if (alert.status == "Actual")
      fail_as(ErrorCategory::forbidden, "status", "an exercise never sends an Actual alert: its alerts are Exercise");
    if (!alert.status.empty() && alert.status != "Exercise")
      fail("status", "an exercise's alerts are Exercise, not {}", alert.status);
  } else {
    if (alert.status == "Exercise") fail("status", "a live session sends Actual or Test alerts, never Exercise");
    status = alert.status.empty() ? "Actual" : alert.status;
    if (status == "Actual") state = "awaiting_approval";
  }
  const std::string by_name = fmt::format("{}:{}", to_string(by.role), by.user);
  const std::string note = mode_ == SessionMode::exercise
                               ? fmt::format("Exercise {}: not a real alert", record_.value("name", id_))
                               : std::string();
  json reach = book.reach(alert, journal_->after(0, SIZE_MAX, Viewer{}, head_locked()));
  json entry = book.add(alert, status, state, by, sim_time_s_, note, std::move(reach));
  journal_locked({{"type", "alert"},
                  {"kind", state == "sent" ? "alert_sent" : "alert_awaiting_approval"},
                  {"t_s", sim_time_s_},
                  {"by", by_name},
                  {"alert", entry["id"]},
                  {"status", status},
                  {"headline", alert.headline},
                  {"severity", alert.severity},
                  {"area", entry["area"]},
                  {"reach", entry["reach"]}});
  note_locked(by_name, {{"alert", entry}});
  spdlog::info("session {}: alert {} ({}, {}) by {}, reaching {:.0f} people", id_, entry["id"].get<std::string>(),
               status, state, by_name, entry["reach"]["people"].get<double>());
  pump_all_locked();
  return entry;
}

json Session::approve_alert(const std::string& id, const Principal& by) {
  std::lock_guard lock(mutex_);
  json entry = alert_book_locked().approve(id, by);
  journal_locked({{"type", "alert"},
                  {"kind", "alert_sent"},
                  {"t_s", sim_time_s_},
                  {"by", entry["approved_by"]},
                  {"alert", id},
                  {"status", entry["status"]},
                  {"headline", entry["headline"]},
                  {"approved_by", entry["approved_by"]},
                  {"reach", entry["reach"]}});
  note_locked(entry["approved_by"].get<std::string>(), {{"alert_approved", id}});
  pump_all_locked();
  return entry;
}

json Session::alerts() const {
  std::lock_guard lock(mutex_);
  return alert_book_locked().list();
}

std::string Session::alert_cap(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return alert_book_locked().cap(id);
}

namespace {

constexpr const char* kRatingsFile = "aar_ratings.json";

std::map<std::string, std::string> read_ratings(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  const json j = in ? json::parse(in, nullptr, false) : json();
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

}  // namespace

json Session::after_action() const {
  std::lock_guard lock(mutex_);
  const auto& book = book_locked();
  const auto events = journal_->after(0, SIZE_MAX, Viewer{}, head_locked());
  AfterActionInputs in;
  in.session = describe_locked();
  in.events = &events;
  in.injects = &book.entries();
  in.alerts = alert_book_ ? alert_book_->list() : json::array();
  in.ratings = read_ratings(dir_ / kRatingsFile);
  in.start_iso = record_.value("start", std::string());
  return after_action_review(in);
}

json Session::rate_objectives(const json& ratings, const Principal& by) {
  {
    std::lock_guard lock(mutex_);
    book_locked();
    if (!ratings.is_object()) fail("ratings", "must be {{\"OBJECTIVE\": \"P|S|M|U\"}}");
    auto current = read_ratings(dir_ / kRatingsFile);
    for (const auto& [objective, rating] : ratings.items()) {
      if (!rating.is_string()) fail("ratings." + objective, "must be P, S, M or U");
      current[objective] = parse_rating(rating.get<std::string>());
    }
    write_private_file(dir_ / kRatingsFile, json(current).dump(1));
    journal_locked({{"t_s", sim_time_s_}, {"kind", "objectives_rated"}, {"by", by_text_of(by)}, {"ratings", ratings},
                    {"staff_only", true}});
    pump_all_locked();
  }
  return after_action();
}

}  // namespace cadereau::server::service
