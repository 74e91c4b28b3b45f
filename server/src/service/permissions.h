#pragma once
// What each role may do: one permission per endpoint of the server contract
// (DESIGN.md, "The server") and per planned one, and one function that
// decides. The HTTP layer asks authorize() before doing anything and maps a
// refusal to 403.
//
// The rules, by session mode (E exercise, L live, R replay; "all" = E L R):
//
//   permission           admin   director  operator  player            observer
//   health, login        yes     yes       yes       yes               yes
//   list_sessions        yes     yes       yes       yes               yes
//   manage_users         yes     -         -         -                 -
//   create_session       E L R   E R       L         -                 -
//   read_session,
//   read_events,
//   open_stream          all     all       L R       E                 all
//   control_clock        all     E R       L         -                 -
//   (and asking a live session for a forecast now)
//   post_action          E L     -         L         E (police,        -
//                                                      traffic, crisis)
//   upload_msel,
//   fire_inject          E       E         -         -                 -
//   send_alert           E L     -         L         E (crisis)        -
//   post_citizen_report,
//   post_observation     E L     -         L         E (flood,         -
//                                                      reports)
//   plan_lights          E L     E         L         E (traffic)       -
//   (green-wave plans computed on the session's territory)
//
// health, login, list_sessions and manage_users are not about one session:
// the mode is ignored for them. For create_session the mode is that of the
// session to be created. list_sessions is open to every role; the list
// itself should hold only the sessions whose read_session is allowed.
//
// Three rules hold for every role, admin included:
//   - a replay is history: nothing is written into it, only its clock moves;
//   - injects and MSELs are exercise material and never enter a live
//     session (exercise data never reaches a live session);
//   - a player without a cell may read an exercise but not act in it.
//
// A player's actions are further limited to the verbs of their cell
// (may_use_verb):
//   police   close_road, close_road_to_traffic, reopen_road, lower_bollard,
//            raise_bollard
//   traffic  speed_limit, restore_speed_limit, light_program, light_off,
//            light_flashing, restore_light
//   crisis   every verb above, and dispatch_unit (the crisis cell holds the
//            liaison with the fire and rescue service and the SAMU)
//   flood, reports: none (they post observations and citizen reports).
// Admins and operators may use every verb; directors and observers none.

#include "cadereau/sim/engine/action.h"
#include "roles.h"

#include <array>
#include <string>
#include <string_view>

namespace cadereau::server::service {

enum class Permission {
  health,               // GET  /api/v1/health
  login,                // POST /api/v1/login
  list_sessions,        // GET  /api/v1/sessions
  create_session,       // POST /api/v1/sessions (mode: the new session's)
  read_session,         // GET  /api/v1/sessions/{id}
  control_clock,        // POST /api/v1/sessions/{id}/clock
  post_action,          // POST /api/v1/sessions/{id}/actions
  read_events,          // GET  /api/v1/sessions/{id}/events
  open_stream,          // WS   /api/v1/sessions/{id}/stream
  manage_users,         // add, list, change users
  upload_msel,          // an exercise's MSEL (HSEEP CSV)
  fire_inject,          // fire one inject now
  send_alert,           // a CAP alert (status Exercise in exercises)
  post_citizen_report,  // POST /api/v1/sessions/{id}/reports
  post_observation,     // a field observation (water level, a blocked road)
  plan_lights,          // POST /api/v1/sessions/{id}/greenwave (a green-wave plan)
};

inline constexpr std::array kAllPermissions{
    Permission::health,        Permission::login,         Permission::list_sessions, Permission::create_session,
    Permission::read_session,  Permission::control_clock, Permission::post_action,   Permission::read_events,
    Permission::open_stream,   Permission::manage_users,  Permission::upload_msel,   Permission::fire_inject,
    Permission::send_alert,    Permission::post_citizen_report, Permission::post_observation,
    Permission::plan_lights,
};

// "read_session", ...
std::string_view to_string(Permission permission);

// The answer to "may this principal do that?": when refused, why, in words
// fit for the 403 message.
struct Decision {
  bool allowed = false;
  std::string reason;

  explicit operator bool() const { return allowed; }
};

// Whether `who` may do `permission` on a session in `mode` (the table above).
Decision authorize(const Principal& who, Permission permission, SessionMode mode);

// Whether `who` may post an action with this verb (sim/engine/action.h;
// text is parsed into a Verb where it comes in). Says nothing about the
// session: ask authorize(post_action) as well.
bool may_use_verb(const Principal& who, sim::engine::Verb verb);
// Whether `who` may send an emergency unit (dispatch_unit).
bool may_dispatch(const Principal& who);

}  // namespace cadereau::server::service
