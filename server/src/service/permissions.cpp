#include "permissions.h"

#include <fmt/format.h>

#include <algorithm>

namespace cadereau::server::service {

namespace {

using enum Role;
using enum SessionMode;

Decision allow() { return {true, {}}; }

Decision refuse(std::string reason) { return {false, std::move(reason)}; }

// "an exercise session", "a live session".
std::string a_session(SessionMode mode) {
  return fmt::format("{} {} session", mode == SessionMode::exercise ? "an" : "a", to_string(mode));
}

Decision refuse_role(const Principal& who, Permission permission, SessionMode mode) {
  return refuse(fmt::format("a user with role {} may not {} in {}", to_string(who.role), to_string(permission),
                            a_session(mode)));
}

// Whether `mode` is among `modes`.
bool in(SessionMode mode, std::initializer_list<SessionMode> modes) {
  return std::find(modes.begin(), modes.end(), mode) != modes.end();
}

// The cells whose players may use at least one network verb.
bool cell_acts_on_network(Cell cell) { return cell == Cell::police || cell == Cell::traffic || cell == Cell::crisis; }
bool cell_reports(Cell cell) { return cell == Cell::flood || cell == Cell::reports; }

Decision read_access(const Principal& who, Permission p, SessionMode mode) {
  switch (who.role) {
    case admin:
    case director:
    case observer: return allow();
    case live_operator: return in(mode, {live, replay}) ? allow() : refuse_role(who, p, mode);
    case player: return mode == exercise ? allow() : refuse_role(who, p, mode);
  }
  return refuse_role(who, p, mode);
}

// Creating a session and running its clock: directors for exercises and
// replays, operators for live sessions, admins for all.
Decision run_sessions(const Principal& who, Permission p, SessionMode mode) {
  switch (who.role) {
    case admin: return allow();
    case director: return in(mode, {exercise, replay}) ? allow() : refuse_role(who, p, mode);
    case live_operator: return mode == live ? allow() : refuse_role(who, p, mode);
    case player:
    case observer: return refuse_role(who, p, mode);
  }
  return refuse_role(who, p, mode);
}

// Injects and MSELs: exercise material, whoever asks.
Decision exercise_control(const Principal& who, Permission p, SessionMode mode) {
  if (mode != exercise)
    return refuse(fmt::format("{} exists only in exercise sessions: exercise material never enters {}", to_string(p),
                              a_session(mode)));
  return who.role == admin || who.role == director ? allow() : refuse_role(who, p, mode);
}

// Actions, alerts, reports and observations: writes into the session's world.
Decision write_to_world(const Principal& who, Permission p, SessionMode mode) {
  if (mode == replay) return refuse(fmt::format("a replay is read-only: nobody may {} in it", to_string(p)));
  switch (who.role) {
    case admin: return allow();
    case live_operator: return mode == live ? allow() : refuse_role(who, p, mode);
    case director:
    case observer: return refuse_role(who, p, mode);
    case player: break;
  }
  if (mode != exercise) return refuse_role(who, p, mode);
  if (!who.cell) return refuse(fmt::format("player {} has no cell, so may not {}", who.user, to_string(p)));
  const Cell cell = *who.cell;
  const bool ok = p == Permission::post_action  ? cell_acts_on_network(cell)
                  : p == Permission::send_alert ? cell == Cell::crisis
                                                : cell_reports(cell);
  if (ok) return allow();
  return refuse(fmt::format("players of the {} cell may not {}", to_string(cell), to_string(p)));
}

// Green-wave plans: the traffic engineers' work on the session's territory,
// which writes nothing into its world but takes a core for a minute.
Decision plan_lights(const Principal& who, Permission p, SessionMode mode) {
  if (mode == replay) return refuse(fmt::format("a replay is read-only: nobody may {} in it", to_string(p)));
  switch (who.role) {
    case admin: return allow();
    case director: return mode == exercise ? allow() : refuse_role(who, p, mode);
    case live_operator: return mode == live ? allow() : refuse_role(who, p, mode);
    case observer: return refuse_role(who, p, mode);
    case player: break;
  }
  if (mode != exercise) return refuse_role(who, p, mode);
  if (who.cell == Cell::traffic) return allow();
  return refuse(fmt::format("only the traffic cell's players may {}", to_string(p)));
}

}  // namespace

std::string_view to_string(Permission permission) {
  switch (permission) {
    case Permission::health: return "health";
    case Permission::login: return "login";
    case Permission::list_sessions: return "list_sessions";
    case Permission::create_session: return "create_session";
    case Permission::read_session: return "read_session";
    case Permission::control_clock: return "control_clock";
    case Permission::post_action: return "post_action";
    case Permission::read_events: return "read_events";
    case Permission::open_stream: return "open_stream";
    case Permission::manage_users: return "manage_users";
    case Permission::upload_msel: return "upload_msel";
    case Permission::fire_inject: return "fire_inject";
    case Permission::send_alert: return "send_alert";
    case Permission::post_citizen_report: return "post_citizen_report";
    case Permission::post_observation: return "post_observation";
    case Permission::plan_lights: return "plan_lights";
  }
  return "?";
}

Decision authorize(const Principal& who, Permission permission, SessionMode mode) {
  switch (permission) {
    case Permission::health:
    case Permission::login:
    case Permission::list_sessions: return allow();
    case Permission::manage_users:
      return who.role == admin ? allow()
                               : refuse(fmt::format("only admins manage users, not a {}", to_string(who.role)));
    case Permission::create_session: return run_sessions(who, permission, mode);
    case Permission::read_session:
    case Permission::read_events:
    case Permission::open_stream: return read_access(who, permission, mode);
    case Permission::control_clock: return run_sessions(who, permission, mode);
    case Permission::upload_msel:
    case Permission::fire_inject: return exercise_control(who, permission, mode);
    case Permission::post_action:
    case Permission::send_alert:
    case Permission::post_citizen_report:
    case Permission::post_observation: return write_to_world(who, permission, mode);
    case Permission::plan_lights: return plan_lights(who, permission, mode);
  }
  return refuse(fmt::format("unknown permission {}", static_cast<int>(permission)));
}

bool may_use_verb(const Principal& who, sim::engine::Verb verb) {
  using sim::engine::Verb;
  // Which cell's players own each verb; crisis players may use them all.
  Cell owner = Cell::traffic;
  switch (verb) {
    case Verb::close_road:
    case Verb::close_road_to_traffic:
    case Verb::reopen_road:
    case Verb::lower_bollard:
    case Verb::raise_bollard: owner = Cell::police; break;
    case Verb::speed_limit:
    case Verb::restore_speed_limit:
    case Verb::light_program:
    case Verb::light_off:
    case Verb::light_flashing:
    case Verb::restore_light: owner = Cell::traffic; break;
  }
  switch (who.role) {
    case admin:
    case live_operator: return true;
    case director:
    case observer: return false;
    case player: return who.cell && (*who.cell == Cell::crisis || *who.cell == owner);
  }
  return false;
}

bool may_dispatch(const Principal& who) {
  switch (who.role) {
    case admin:
    case live_operator: return true;
    case director:
    case observer: return false;
    case player: return who.cell && *who.cell == Cell::crisis;
  }
  return false;
}

}  // namespace cadereau::server::service
