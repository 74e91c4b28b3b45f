#pragma once
// The server's API (DESIGN.md, "The server"): requests routed to the
// services, every one authenticated (but health and login) and authorised
// from the one permission table, every change audited. No sockets here: the
// transport (http/) calls it through http::Handler.
//
//   GET  /api/v1/health
//   POST /api/v1/login                 {"user","password"} -> {"token","role","cell","expires_at"}
//   POST /api/v1/logout
//   GET  /api/v1/sessions
//   POST /api/v1/sessions              {"mode":"exercise","scenario"|"scenario_yaml",["name"],
//                                      ["light_plan":{"session","plan"}] (a green-wave plan run from the start)}
//                                      {"mode":"replay","of"} {"mode":"live","territory"}  -> 201
//   GET  /api/v1/sessions/{id}
//   POST /api/v1/sessions/{id}/clock   {"command":"start|pause|resume|stop|seek","speed","time_s"}
//   POST /api/v1/sessions/{id}/actions {"verb","target",["value"],["program"],["t_s"]} -> 202 {"seq"}
//   GET  /api/v1/sessions/{id}/events?after=SEQ[&limit=N]
//   POST /api/v1/sessions/{id}/msel    the MSEL as CSV (HSEEP columns) -> {"injects": N}
//   GET  /api/v1/sessions/{id}/msel    the MSEL with the outcomes so far, as CSV
//   GET  /api/v1/sessions/{id}/injects  (players: those delivered to their cell)
//   POST /api/v1/sessions/{id}/injects/{n}      {"command":"fire|hold|release|cancel|test"}
//   POST /api/v1/sessions/{id}/injects/{n}/ack  {"comment"} -> 202 {"seq"}
//   WS   /api/v1/sessions/{id}/stream?after=SEQ
//   POST /api/v1/sessions/{id}/alerts/reach  an alert as POST .../alerts takes it -> whom it would reach now
//   GET  /api/v1/sessions/{id}/map      its territory's layers in WGS84 (web/territory_map.h)
//   GET  /api/v1/sessions/{id}/map/relief.png   the shaded relief over the layers' bounds
//   GET  /api/v1/sessions/{id}/water.png[?t=S]  the water depth recorded at or before S (a
//                                      replay: its clock), the latest otherwise
//   GET  /api/v1/sessions/{id}/greenwave          the session's green-wave plans (service/greenwave_jobs.h)
//   POST /api/v1/sessions/{id}/greenwave          {"tls":[ID,...],"speed_kmh","cycle_s","begin_s","end_s"} -> 202
//   GET  /api/v1/sessions/{id}/greenwave/{n}[/{file}]  a plan: its state and report, or one of its files
//   POST /api/v1/sessions/{id}/views              {"t_s"} (default: now) -> 202, a 3D view drawn (service/view_snapshots.h)
//   GET  /api/v1/sessions/{id}/views/{n}[/view.png]  a view: its state and caption, or its picture
//   GET  /  and its files              the operators' console (server/web/), no credentials
//
// Credentials: "Authorization: Bearer TOKEN", or the cookie login sets
// (HttpOnly, SameSite=Strict, and Secure over TLS). A WebSocket upgrade
// whose Origin is not this server's own is refused (403): a page of another
// site cannot ride on the cookie.

#include "../http/transport.h"
#include "../service/audit_log.h"
#include "../service/feed_hub.h"
#include "../service/greenwave_jobs.h"
#include "../service/view_snapshots.h"
#include "../service/session_registry.h"
#include "../service/throttle.h"
#include "../service/tokens.h"
#include "../service/users.h"
#include "../web/territory_map.h"

#include <memory>
#include <string>

namespace cadereau::server::api {

inline constexpr const char* kSessionCookie = "cadereau_session";

struct ApiServices {
  service::UserStore& users;
  service::TokenStore& tokens;
  service::LoginThrottle& throttle;
  service::AuditLog& audit;
  service::SessionRegistry& sessions;
  bool tls = true;  // cookies are Secure over TLS
  service::FeedHub* feeds = nullptr;  // the live feeds (SensorThings, the feeds' state)
  web::MapCache* maps = nullptr;      // the console's maps
  service::GreenwaveJobs* greenwave = nullptr;  // the planners' green-wave plans
  service::ViewSnapshots* views = nullptr;      // 3D views of a session at a time
};

class ApiHandler final : public http::Handler {
 public:
  explicit ApiHandler(ApiServices services) : s_(services) {}

  http::HttpResponse handle(const http::HttpRequest& request) override;
  std::optional<http::HttpResponse> open_stream(const http::HttpRequest& request,
                                                std::shared_ptr<http::StreamSink> sink) override;

 private:
  struct Call;
  http::HttpResponse route(Call& call);
  http::HttpResponse login(Call& call);
  http::HttpResponse logout(Call& call);
  http::HttpResponse list_sessions(Call& call);
  http::HttpResponse create_session(Call& call);
  http::HttpResponse session_route(Call& call, const std::string& id, const std::string& rest);
  http::HttpResponse clock(Call& call, service::Session& session);
  http::HttpResponse action(Call& call, service::Session& session);
  http::HttpResponse events(Call& call, service::Session& session);
  http::HttpResponse greenwave(Call& call, service::Session& session, const std::string& item, const std::string& file);
  http::HttpResponse views(Call& call, service::Session& session, const std::string& item, const std::string& file);
  http::HttpResponse msel(Call& call, service::Session& session);
  http::HttpResponse map(Call& call, service::Session& session, const std::string& resource, const std::string& item);
  http::HttpResponse inject(Call& call, service::Session& session, const std::string& id, bool ack);
  service::Principal authenticate(const http::HttpRequest& request) const;
  void audit(const Call& call, int status, const std::string& detail);

  ApiServices s_;
};

}  // namespace cadereau::server::api
