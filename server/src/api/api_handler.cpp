#include "api_handler.h"

#include "../service/after_action.h"
#include "../service/alerts.h"
#include "../service/permissions.h"
#include "../web/console_files.h"
#include "../worker/session_files.h"
#include "cadereau/sim/engine/action.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <regex>
#include <set>

#ifndef CADEREAU_VERSION
#define CADEREAU_VERSION "unknown"
#endif

namespace cadereau::server::api {
namespace {

using json = nlohmann::json;
using http::HttpRequest;
using http::HttpResponse;
using service::Permission;
using service::Principal;

constexpr const char* kPrefix = "/api/v1";
constexpr std::size_t kMaxEventsPerPage = 5000;

json parse_body(const HttpRequest& request) {
  if (request.body.empty()) fail("body", "is empty: a JSON object is expected");
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) fail("body", "is not a JSON object");
  return body;
}

std::string text_field(const json& body, const char* name, bool required = true) {
  if (!body.contains(name)) {
    if (required) fail(name, "is missing");
    return {};
  }
  if (!body[name].is_string()) fail(name, "must be text");
  return body[name].get<std::string>();
}

std::optional<double> number_field(const json& body, const char* name) {
  if (!body.contains(name) || body[name].is_null()) return std::nullopt;
  if (!body[name].is_number()) fail(name, "must be a number");
  return body[name].get<double>();
}

std::uint64_t seq_query(const HttpRequest& request, const char* name, std::uint64_t fallback) {
  const auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  std::uint64_t value = 0;
  const auto& t = it->second;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) fail(name, "'{}' is not a whole number", t);
  return value;
}

std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const auto end = header.find(';', at);
    const std::string pair = header.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const auto eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

// "https://host:port" -> "host:port".
std::string origin_authority(const std::string& origin) {
  const auto scheme = origin.find("://");
  return scheme == std::string::npos ? origin : origin.substr(scheme + 3);
}

void require(const Principal& who, Permission permission, service::SessionMode mode) {
  const auto decision = service::authorize(who, permission, mode);
  if (!decision) fail_as(ErrorCategory::forbidden, std::string(service::to_string(permission)), "{}", decision.reason);
}

HttpResponse json_answer(int status, const json& body) {
  return http::json_response(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

sim::engine::TimedAction parse_action(const json& body, const Principal& who) {
  const std::string verb_text = text_field(body, "verb");
  const auto verb = sim::engine::parse_verb(verb_text);
  if (!verb) {
    std::string names;
    for (const auto& n : sim::engine::verb_names()) names += (names.empty() ? "" : ", ") + n;
    fail("verb", "'{}' is not a verb ({})", verb_text, names);
  }
  if (!service::may_use_verb(who, *verb))
    fail_as(ErrorCategory::forbidden, "verb", "{}",
            who.cell ? fmt::format("the {} cell may not {}", service::to_string(*who.cell), verb_text)
                     : fmt::format("a {} may not {}", service::to_string(who.role), verb_text));
  sim::engine::TimedAction a;
  a.verb = *verb;
  a.target = text_field(body, "target");
  if (a.target.empty() || a.target.size() > 256) fail("target", "must name a road edge or a light (1 to 256 characters)");
  if (auto v = number_field(body, "value")) a.value = *v;
  if (*verb == sim::engine::Verb::speed_limit && !(a.value > 0.0 && a.value <= 200.0))
    fail("value", "a speed limit needs a value in km/h, above 0 and at most 200");
  a.program = text_field(body, "program", false);
  if (auto t = number_field(body, "t_s")) {
    if (!std::isfinite(*t) || *t < 0.0) fail("t_s", "must be a time in seconds since the start");
    a.t_s = *t;
  }
  a.by = service::principal_text(who);
  a.where = "action";
  return a;
}

// {"verb": "dispatch_unit", "unit", "from", "to": an asset or road edge id,
// or {"lon", "lat"}}.
sim::engine::Dispatch parse_dispatch(const json& body, const Principal& who, const service::Session& session) {
  if (!service::may_dispatch(who))
    fail_as(ErrorCategory::forbidden, "verb", "{}",
            who.cell ? fmt::format("the {} cell may not dispatch_unit (the crisis cell sends units)", service::to_string(*who.cell))
                     : fmt::format("a {} may not dispatch_unit", service::to_string(who.role)));
  sim::engine::Dispatch d;
  d.unit = text_field(body, "unit");
  if (d.unit.empty() || d.unit.size() > 64) fail("unit", "must name the unit (1 to 64 characters)");
  d.from = text_field(body, "from");
  if (d.from.empty() || d.from.size() > 256) fail("from", "must name a fire station or a hospital of the territory");
  if (!body.contains("to")) fail("to", "is missing: an asset or road edge id, or {{\"lon\", \"lat\"}}");
  if (body["to"].is_object()) {
    const auto lon = number_field(body["to"], "lon");
    const auto lat = number_field(body["to"], "lat");
    if (!lon || !lat) fail("to", "a place is {{\"lon\": degrees, \"lat\": degrees}}");
    d.to_point = session.map_point(*lon, *lat);
  } else {
    d.to = text_field(body, "to");
    if (d.to.empty() || d.to.size() > 256) fail("to", "must name an asset or a road edge, or be {{\"lon\", \"lat\"}}");
  }
  d.by = service::principal_text(who);
  d.where = "action";
  return d;
}

// {"point": {"type": "Point", "coordinates": [lon, lat]}, "category", "text", "photo"}.
service::Session::CitizenReport parse_report(const json& body) {
  static const std::set<std::string> kCategories = {"flooding",   "stranded_vehicle", "person_in_danger",
                                                     "road_blocked", "power_cut",      "other"};
  service::Session::CitizenReport report;
  if (!body.is_object() || !body.contains("point") || !body["point"].is_object())
    fail("point", "is missing: a GeoJSON Point {{\"type\": \"Point\", \"coordinates\": [lon, lat]}}");
  const json& point = body["point"];
  if (point.value("type", json()) != "Point" || !point.contains("coordinates") || !point["coordinates"].is_array() ||
      point["coordinates"].size() < 2 || !point["coordinates"][0].is_number() || !point["coordinates"][1].is_number())
    fail("point", "must be a GeoJSON Point with coordinates [lon, lat]");
  report.lon = point["coordinates"][0].get<double>();
  report.lat = point["coordinates"][1].get<double>();
  if (!std::isfinite(report.lon) || !std::isfinite(report.lat) || std::abs(report.lon) > 180.0 || std::abs(report.lat) > 90.0)
    fail("point", "[{}, {}] is not a longitude and a latitude in degrees", report.lon, report.lat);
  report.category = text_field(body, "category");
  if (!kCategories.count(report.category))
    fail("category", "'{}' is not one of {}", report.category.substr(0, 40), fmt::join(kCategories, ", "));
  report.text = text_field(body, "text");
  if (report.text.empty() || report.text.size() > 2000) fail("text", "says what the caller reports (1 to 2000 characters)");
  report.photo = text_field(body, "photo", false);
  if (report.photo.size() > 500) fail("photo", "a reference of at most 500 characters");
  return report;
}

service::ClockRequest parse_clock(const json& body) {
  using C = service::ClockRequest::Command;
  service::ClockRequest r;
  const std::string command = text_field(body, "command", false);
  if (command == "start") r.command = C::start;
  else if (command == "pause") r.command = C::pause;
  else if (command == "resume") r.command = C::resume;
  else if (command == "stop") r.command = C::stop;
  else if (command == "seek") r.command = C::seek;
  else if (!command.empty()) fail("command", "'{}' is not a clock command (start, pause, resume, stop, seek)", command);
  r.speed = number_field(body, "speed");
  r.time_s = number_field(body, "time_s");
  return r;
}

}  // namespace

struct ApiHandler::Call {
  const HttpRequest& request;
  std::optional<Principal> who;
  std::string action;  // what the audit calls a change; empty for reads
  std::string session;
  std::string target;
};

Principal ApiHandler::authenticate(const HttpRequest& request) const {
  std::string token;
  if (request.authorization.rfind("Bearer ", 0) == 0)
    token = request.authorization.substr(7);
  else if (!request.authorization.empty())
    fail_as(ErrorCategory::unauthenticated, "Authorization", "expected \"Bearer TOKEN\"");
  else
    token = cookie_value(request.cookie, kSessionCookie);
  if (token.empty())
    fail_as(ErrorCategory::unauthenticated, "request", "needs a token (Authorization: Bearer TOKEN) or a session cookie: log in first");
  const auto who = s_.tokens.validate(token, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  if (!who) fail_as(ErrorCategory::unauthenticated, "token", "unknown or expired: log in again");
  return *who;
}

void ApiHandler::audit(const Call& call, int status, const std::string& detail) {
  service::AuditEntry entry;
  entry.user = call.who ? call.who->user : call.target;
  if (call.who) entry.role = call.who->role;
  entry.action = call.action;
  entry.session = call.session;
  entry.target = call.target;
  entry.result = status;
  entry.detail = detail.substr(0, 500);
  try {
    const auto record = s_.audit.append(entry, std::chrono::system_clock::now());
    if (!call.session.empty() && call.who) {
      // Into the session's recording as well, when it has one.
      try {
        s_.sessions.find(call.session)
            ->note(service::principal_text(*call.who),
                   {{"audit_seq", record.seq}, {"action", entry.action}, {"target", entry.target},
                    {"result", entry.result}, {"detail", entry.detail}});
      } catch (const Error&) {
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("audit: {}", e.what());
  }
}

HttpResponse ApiHandler::handle(const HttpRequest& request) {
  Call call{request, std::nullopt, {}, {}, {}};
  HttpResponse response;
  std::string detail;
  try {
    response = route(call);
  } catch (const Error& e) {
    response = http::error_response(e);
    detail = e.what();
    if (e.category() == ErrorCategory::internal) spdlog::error("{} {}: {}", request.method, request.path, e.what());
  }
  if (!call.action.empty()) audit(call, response.status, detail);
  return response;
}

HttpResponse ApiHandler::route(Call& call) {
  const auto& r = call.request;
  const std::string& path = r.path;
  const auto method_is = [&](const char* m) {
    if (r.method != m) throw Error(path, fmt::format("takes {}, not {}", m, r.method), ErrorCategory::bad_input);
  };
  // OGC SensorThings v1.1, for partners who push readings over HTTP.
  static const std::regex sensorthings(R"(/v1\.1/Datastreams\('?([A-Za-z0-9_-]{1,64})'?\)/Observations)");
  std::smatch st;
  if (std::regex_match(path, st, sensorthings)) {
    call.action = "sensorthings.observation";
    call.target = st[1].str();
    method_is("POST");
    call.who = authenticate(r);
    require(*call.who, Permission::post_observation, service::SessionMode::live);
    if (!s_.feeds) fail_as(ErrorCategory::unavailable, path, "this server takes no feeds");
    const int sessions = s_.feeds->sensorthings(st[1].str(), r.body);
    auto response = json_answer(201, {{"datastream", st[1].str()}, {"sessions", sessions}});
    return response;
  }
  if (path.rfind(kPrefix, 0) != 0) {
    // The console: the page and its files, no credentials needed (it holds no data).
    if (const auto* file = web::find_console_file(path); file && (r.method == "GET" || r.method == "HEAD")) {
      HttpResponse response{200, std::string(file->content_type), std::string(file->body), {}};
      response.headers.emplace_back("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                                    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      response.headers.emplace_back("Cache-Control", "no-cache");
      return response;
    }
    fail_as(ErrorCategory::not_found, path, "no such page");
  }
  const std::string rest = path.substr(std::string(kPrefix).size());
  if (rest == "/health") {
    method_is("GET");
    return json_answer(200, {{"status", "ok"}, {"version", CADEREAU_VERSION}});
  }
  if (rest == "/login") {
    method_is("POST");
    return login(call);
  }
  call.who = authenticate(r);
  if (rest == "/logout") {
    method_is("POST");
    return logout(call);
  }
  if (rest == "/sessions") {
    if (r.method == "POST") return create_session(call);
    method_is("GET");
    return list_sessions(call);
  }
  static const std::regex session_path(R"(/sessions/([A-Za-z0-9_-]{1,64})((/[a-z]+(\.html|\.png|\.tif)?)(/[A-Za-z0-9._-]{1,64})?(/ack|/approve|/steps/[0-9]{1,3}|/[a-z_]{1,32}(\.[a-z]{2,4}){1,2})?)?)");
  std::smatch m;
  if (std::regex_match(rest, m, session_path)) return session_route(call, m[1].str(), m[2].str());
  fail_as(ErrorCategory::not_found, path, "no such endpoint");
}

HttpResponse ApiHandler::login(Call& call) {
  call.action = "login";
  const json body = parse_body(call.request);
  const std::string user = text_field(body, "user");
  const std::string password = text_field(body, "password");
  call.target = user.substr(0, 64);
  const auto now = service::LoginThrottle::Clock::now();
  const auto wait = s_.throttle.retry_after(user, call.request.client_address, now);
  if (wait.count() > 0) {
    auto response = http::error_response(ErrorCategory::rate_limited,
                                         fmt::format("too many failed logins: try again in {} s", wait.count()));
    response.headers.emplace_back("Retry-After", std::to_string(wait.count()));
    return response;
  }
  const auto found = s_.users.verify(user, password);
  if (!found) {
    s_.throttle.record_failure(user, call.request.client_address, now);
    fail_as(ErrorCategory::unauthenticated, "login", "unknown user or wrong password");
  }
  s_.throttle.record_success(user);
  call.who = found->principal();
  const auto issued =
      s_.tokens.issue(found->principal(), std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(issued.expires_at - issued.issued_at).count();
  json answer = {{"token", issued.token},
                 {"role", std::string(service::to_string(found->role))},
                 {"expires_at", service::iso8601_utc(issued.expires_at)}};
  if (found->cell) answer["cell"] = std::string(service::to_string(*found->cell));
  auto response = json_answer(200, answer);
  response.headers.emplace_back("Set-Cookie", fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie,
                                                          issued.token, max_age, s_.tls ? "; Secure" : ""));
  return response;
}

HttpResponse ApiHandler::logout(Call& call) {
  call.action = "logout";
  std::string token = call.request.authorization.rfind("Bearer ", 0) == 0 ? call.request.authorization.substr(7)
                                                                          : cookie_value(call.request.cookie, kSessionCookie);
  s_.tokens.revoke(token);
  auto response = json_answer(200, {{"status", "logged out"}});
  response.headers.emplace_back("Set-Cookie", fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", kSessionCookie,
                                                          s_.tls ? "; Secure" : ""));
  return response;
}

HttpResponse ApiHandler::list_sessions(Call& call) {
  require(*call.who, Permission::list_sessions, service::SessionMode::exercise);
  json list = json::array();
  for (const auto& s : s_.sessions.list())
    if (service::authorize(*call.who, Permission::read_session, s->mode())) list.push_back(s->summary());
  return json_answer(200, list);
}

HttpResponse ApiHandler::create_session(Call& call) {
  call.action = "session.create";
  const json body = parse_body(call.request);
  const auto mode = service::parse_session_mode(text_field(body, "mode"));
  require(*call.who, Permission::create_session, mode);
  // A green-wave plan of a session the user may read, applied from the start.
  std::optional<std::filesystem::path> light_plan;
  if (body.is_object() && body.contains("light_plan")) {
    const json& lp = body["light_plan"];
    if (!lp.is_object() || !lp.contains("session") || !lp["session"].is_string() || !lp.contains("plan") ||
        !lp["plan"].is_number_integer())
      fail("light_plan", "must be {{\"session\": ID, \"plan\": N}}: a green-wave plan computed in a session");
    if (!s_.greenwave) fail_as(ErrorCategory::unavailable, "light_plan", "this server computes no green-wave plans");
    const auto source = s_.sessions.find(lp["session"].get<std::string>());
    require(*call.who, Permission::read_session, source->mode());
    const auto number = lp["plan"].get<long long>();
    if (number < 1 || number > 999999) fail_as(ErrorCategory::not_found, "light_plan", "plans are numbered from 1");
    light_plan = s_.greenwave->plan_file(source->dir(), static_cast<int>(number));
  }
  const auto session = s_.sessions.create(body, mode, *call.who, light_plan);
  call.session = session->id();
  auto response = json_answer(201, session->describe());
  response.headers.emplace_back("Location", std::string(kPrefix) + "/sessions/" + session->id());
  return response;
}

HttpResponse ApiHandler::session_route(Call& call, const std::string& id, const std::string& rest) {
  const auto& r = call.request;
  const bool post = r.method == "POST";
  // "/injects/12/ack" -> resource "injects", item "12", ack.
  std::string resource, item;
  std::string verb;  // "ack", "approve"
  bool ack = false;
  if (!rest.empty()) {
    const auto second = rest.find('/', 1);
    resource = rest.substr(1, second == std::string::npos ? std::string::npos : second - 1);
    if (second != std::string::npos) {
      const auto third = rest.find('/', second + 1);
      item = rest.substr(second + 1, third == std::string::npos ? std::string::npos : third - second - 1);
      ack = third != std::string::npos;
      if (ack) verb = rest.substr(third + 1);
    }
  }
  if (post) call.action = "session." + (resource.empty() ? std::string("post") : resource) + (ack ? "." + verb : "");
  call.session = id.substr(0, 64);
  call.target = item;
  const auto session = s_.sessions.find(id);
  if (r.method != (post ? "POST" : "GET")) fail(r.path, "takes GET or POST, not {}", r.method);
  if (resource.empty() && !post) {
    require(*call.who, Permission::read_session, session->mode());
    return json_answer(200, session->describe());
  }
  if (item.empty()) {
    if (resource == "clock" && post) return clock(call, *session);
    if (resource == "actions" && post) return action(call, *session);
    if (resource == "events" && !post) return events(call, *session);
    if (resource == "msel") return msel(call, *session);
    if (resource == "reports" && post) {
      require(*call.who, Permission::post_citizen_report, session->mode());
      return json_answer(201, session->citizen_report(parse_report(parse_body(r)), *call.who));
    }
    if (resource == "feeds" && !post) {
      require(*call.who, Permission::read_session, session->mode());
      json feeds = session->feeds();
      if (s_.feeds) feeds["server"] = s_.feeds->counters();
      return json_answer(200, feeds);
    }
    if (resource == "forecast") {
      if (!post) {
        require(*call.who, Permission::read_session, session->mode());
        return json_answer(200, session->forecast());
      }
      // Asking for a forecast runs the live session's machinery, as its clock does.
      require(*call.who, Permission::control_clock, session->mode());
      const json body = r.body.empty() ? json::object() : parse_body(r);
      std::optional<double> horizon_s;
      if (body.contains("horizon_min")) {
        if (!body["horizon_min"].is_number()) fail("horizon_min", "must be a number of minutes (1 to 720)");
        horizon_s = body["horizon_min"].get<double>() * 60.0;
      }
      return json_answer(202, session->request_forecast(*call.who, horizon_s));
    }
    if (resource == "forecasts" && !post) {
      require(*call.who, Permission::read_session, session->mode());
      return json_answer(200, session->forecasts());
    }
    if (resource == "procedures" && !post) {
      require(*call.who, Permission::read_session, session->mode());
      if (session->mode() == service::SessionMode::replay) fail_as(ErrorCategory::not_found, r.path, "a replay has no procedures");
      return json_answer(200, session->procedures(*call.who));
    }
    if (resource == "injects" && !post) {
      require(*call.who, Permission::read_session, session->mode());
      return json_answer(200, session->injects(*call.who));
    }
    if ((resource == "map" || resource == "water.png" || resource == "water.tif" || resource == "traffic") && !post)
      return map(call, *session, resource, item);
    if (resource == "greenwave") return greenwave(call, *session, "", "");
    if (resource == "views") return views(call, *session, "", "");
    if (resource == "aar" || resource == "aar.html") {
      if (post) {
        require(*call.who, Permission::fire_inject, session->mode());
        const json body = parse_body(r);
        if (!body.contains("ratings") && !body.contains("counterfactual"))
          fail("body", "needs \"ratings\": {{\"OBJECTIVE\": \"P|S|M|U\"}} or \"counterfactual\": true");
        if (body.value("counterfactual", false)) session->start_counterfactual(*call.who);
        return json_answer(200, body.contains("ratings") ? session->rate_objectives(body["ratings"], *call.who)
                                                         : session->after_action());
      }
      require(*call.who, Permission::read_session, session->mode());
      if (resource == "aar") return json_answer(200, session->after_action());
      http::HttpResponse response;
      response.content_type = "text/html; charset=utf-8";
      response.body = service::after_action_html(session->after_action());
      return response;
    }
    if (resource == "alerts") {
      if (!post) {
        require(*call.who, Permission::read_session, session->mode());
        return json_answer(200, session->alerts());
      }
      require(*call.who, Permission::send_alert, session->mode());
      return json_answer(201, session->send_alert(service::parse_alert(parse_body(r)), *call.who));
    }
  } else if (resource == "procedures" && post && verb.rfind("steps/", 0) == 0) {
    require(*call.who, Permission::read_session, session->mode());
    if (session->mode() == service::SessionMode::replay) fail_as(ErrorCategory::forbidden, "procedure", "a replay is read-only");
    const std::string n = verb.substr(6);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      fail_as(ErrorCategory::not_found, r.path, "steps are numbered from 1");
    const json body = parse_body(r);
    const bool done = body.is_object() && body.contains("done") ? body["done"].is_boolean() && body["done"].get<bool>() : true;
    if (body.is_object() && body.contains("done") && !body["done"].is_boolean()) fail("done", "must be true or false");
    return json_answer(200, session->tick_procedure(item, std::stoi(n), done, text_field(body, "comment", false), *call.who));
  } else if (resource == "greenwave" && !post) {
    return greenwave(call, *session, item, verb);
  } else if (resource == "views" && !post) {
    return views(call, *session, item, verb);
  } else if (resource == "map" && !post && !ack && item == "relief.png") {
    return map(call, *session, resource, item);
  } else if (resource == "injects" && post && (!ack || verb == "ack")) {
    return inject(call, *session, item, ack);
  } else if (resource == "alerts" && post && !ack && item == "reach") {
    require(*call.who, Permission::send_alert, session->mode());
    call.action.clear();  // a preview changes nothing: not audited
    return json_answer(200, session->alert_reach(service::parse_alert(parse_body(r))));
  } else if (resource == "alerts" && post && verb == "approve") {
    require(*call.who, Permission::send_alert, session->mode());
    return json_answer(200, session->approve_alert(item, *call.who));
  } else if (resource == "alerts" && !post && !ack && item.size() > 4 && item.substr(item.size() - 4) == ".cap") {
    require(*call.who, Permission::read_session, session->mode());
    http::HttpResponse response;
    response.content_type = "application/cap+xml; charset=utf-8";
    response.body = session->alert_cap(item.substr(0, item.size() - 4));
    return response;
  }
  fail_as(ErrorCategory::not_found, r.path, "no such endpoint ({} {})", r.method, rest.empty() ? "/" : rest);
}

HttpResponse ApiHandler::msel(Call& call, service::Session& session) {
  require(*call.who, Permission::upload_msel, session.mode());
  if (call.request.method == "GET") {
    http::HttpResponse response;
    response.content_type = "text/csv; charset=utf-8";
    response.body = session.msel_csv();
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"msel-" + session.id() + ".csv\"");
    return response;
  }
  if (call.request.body.empty()) fail("body", "is empty: send the MSEL as CSV (text/csv)");
  return json_answer(200, {{"injects", session.load_msel(call.request.body, *call.who)}});
}

HttpResponse ApiHandler::inject(Call& call, service::Session& session, const std::string& id, bool ack) {
  if (ack) {
    require(*call.who, Permission::read_events, session.mode());
    const json body = call.request.body.empty() ? json::object() : parse_body(call.request);
    const std::string comment = text_field(body, "comment", false);
    if (comment.size() > 2000) fail("comment", "is longer than 2000 bytes");
    return json_answer(202, {{"seq", session.acknowledge_inject(id, *call.who, comment)}});
  }
  require(*call.who, Permission::fire_inject, session.mode());
  const json body = parse_body(call.request);
  return json_answer(200, session.inject_command(id, service::parse_inject_command(text_field(body, "command")), *call.who));
}

HttpResponse ApiHandler::clock(Call& call, service::Session& session) {
  require(*call.who, Permission::control_clock, session.mode());
  const json body = parse_body(call.request);
  call.target = body.dump().substr(0, 200);
  return json_answer(200, session.control_clock(parse_clock(body), *call.who));
}

HttpResponse ApiHandler::action(Call& call, service::Session& session) {
  require(*call.who, Permission::post_action, session.mode());
  const json body = parse_body(call.request);
  json extra = json::object();
  if (body.contains("inject")) extra["inject"] = text_field(body, "inject").substr(0, 64);  // the inject it answers
  if (body.is_object() && body.value("verb", json()) == "dispatch_unit") {
    auto dispatch = parse_dispatch(body, *call.who, session);
    call.target = "dispatch_unit " + dispatch.unit;
    return json_answer(202, {{"seq", session.submit(std::move(dispatch), *call.who, "action_accepted", extra)}});
  }
  auto action = parse_action(body, *call.who);
  call.target = fmt::format("{} {}", sim::engine::to_string(action.verb), action.target);
  const auto seq = session.submit(std::move(action), *call.who, "action_accepted", extra);
  return json_answer(202, {{"seq", seq}});
}

namespace {

// The time a map layer is asked at: ?t=SECONDS, else a replay's playhead,
// else none (the latest).
std::optional<double> asked_time(const http::HttpRequest& request, const service::Session& session, bool replay) {
  if (const auto it = request.query.find("t"); it != request.query.end()) {
    char* end = nullptr;
    const double t = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !std::isfinite(t) || t < 0)
      fail("t", "'{}' is not a time in seconds from the start", it->second.substr(0, 32));
    return t;
  }
  if (replay) return session.summary().value("sim_time_s", 0.0);
  return std::nullopt;
}

}  // namespace

HttpResponse ApiHandler::map(Call& call, service::Session& session, const std::string& resource, const std::string& item) {
  require(*call.who, Permission::read_session, session.mode());
  // A replay shows the territory and the recordings of the session it plays.
  std::shared_ptr<service::Session> played;
  if (session.mode() == service::SessionMode::replay) played = s_.sessions.find(session.replay_of());
  const service::Session& source = played ? *played : session;
  const auto t_s = asked_time(call.request, session, played != nullptr);
  if (resource == "traffic") {
    if (!item.empty()) fail_as(ErrorCategory::not_found, call.request.path, "the traffic has no parts");
    auto traffic = web::traffic_json(worker::session_recordings(source.dir()), t_s);
    if (!traffic)
      fail_as(ErrorCategory::not_found, "traffic", "no traffic reading recorded {}yet",
              t_s ? fmt::format("by {} s ", *t_s) : "");
    return http::json_response(200, std::move(*traffic));
  }
  if (!s_.maps) fail_as(ErrorCategory::unavailable, "map", "this server draws no maps");
  const auto territory = source.territory_dir();
  if (territory.empty()) fail_as(ErrorCategory::not_found, "map", "session {} has no territory", session.id());
  const auto drawn = s_.maps->get(territory);
  HttpResponse response;
  if (resource == "map" && item.empty()) return http::json_response(200, std::string(drawn->layers_json()));
  response.content_type = "image/png";
  if (item == "relief.png") {
    response.body = drawn->hillshade_png();
    response.headers.emplace_back("Cache-Control", "private, max-age=3600");
    return response;
  }
  double frame_s = 0.0;
  const auto depth = web::depth_frame(worker::session_recordings(source.dir()), t_s, &frame_s);
  if (!depth) fail_as(ErrorCategory::not_found, "water", "no water frame recorded {}yet", t_s ? fmt::format("by {} s ", *t_s) : "");
  if (resource == "water.tif") {
    // The depths themselves (m, float32, on the flood model's grid and CRS): for the 3D viewer.
    response.content_type = "image/tiff";
    response.body = twin::geotiff_bytes(*depth);
  } else {
    response.body = drawn->water_png(*depth);
  }
  response.headers.emplace_back("X-Frame-Time-S", fmt::format("{:g}", frame_s));
  return response;
}

HttpResponse ApiHandler::greenwave(Call& call, service::Session& session, const std::string& item, const std::string& file) {
  if (!s_.greenwave) fail_as(ErrorCategory::unavailable, "greenwave", "this server computes no green-wave plans");
  if (call.request.method == "POST") {
    require(*call.who, Permission::plan_lights, session.mode());
    const auto request = service::parse_greenwave_request(parse_body(call.request));
    const auto territory = session.territory_dir();
    if (territory.empty()) fail_as(ErrorCategory::not_found, "greenwave", "session {} has no territory", session.id());
    call.target = request.tls.front() + ".." + request.tls.back();
    return json_answer(202, s_.greenwave->start(session.dir(), territory, request, service::principal_text(*call.who)));
  }
  require(*call.who, Permission::read_session, session.mode());
  if (item.empty()) return json_answer(200, s_.greenwave->list(session.dir()));
  if (item.size() > 6 || !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail_as(ErrorCategory::not_found, call.request.path, "plans are numbered from 1");
  const int number = std::stoi(item);
  if (file.empty()) return json_answer(200, s_.greenwave->job(session.dir(), number));
  HttpResponse response;
  response.body = s_.greenwave->file(session.dir(), number, file, &response.content_type);
  // A diagram opened on its own is a document of this origin: nothing in it may run.
  response.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  if (file == "plan.add.xml")
    response.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"greenwave-{}-{}.add.xml\"",
                                                                     session.id(), number));
  return response;
}

HttpResponse ApiHandler::views(Call& call, service::Session& session, const std::string& item, const std::string& file) {
  if (!s_.views) fail_as(ErrorCategory::unavailable, "view", "this server draws no 3D views");
  require(*call.who, Permission::read_session, session.mode());
  if (call.request.method == "POST") {
    // A replay draws the session it plays, at the replay's clock.
    std::shared_ptr<service::Session> played;
    if (session.mode() == service::SessionMode::replay) played = s_.sessions.find(session.replay_of());
    const service::Session& source = played ? *played : session;
    const auto territory = source.territory_dir();
    if (territory.empty()) fail_as(ErrorCategory::not_found, "view", "session {} has no territory", session.id());
    const json body = call.request.body.empty() ? json::object() : parse_body(call.request);
    if (!body.is_object()) fail("body", "must be a JSON object: {{}} for now, or {{\"t_s\": SECONDS}}");
    const double now_s = session.summary().value("sim_time_s", 0.0);
    double t_s = now_s;
    if (body.contains("t_s")) {
      if (!body["t_s"].is_number() || !(body["t_s"].get<double>() >= 0.0))
        fail("t_s", "must be a time in seconds from the start of the session");
      t_s = body["t_s"].get<double>();
      if (t_s > now_s + 1.0) fail("t_s", "is {:.0f} s, but the session is at {:.0f} s: it has not happened yet", t_s, now_s);
    }
    call.target = fmt::format("t={:.0f}", t_s);
    return json_answer(202, s_.views->start(session.dir(), territory, worker::session_recordings(source.dir()), t_s,
                                             service::principal_text(*call.who)));
  }
  if (item.empty() || item.size() > 6 || !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }))
    fail_as(ErrorCategory::not_found, call.request.path, "views are numbered from 1");
  const int number = std::stoi(item);
  if (file.empty()) return json_answer(200, s_.views->view(session.dir(), number));
  if (file != "view.png") fail_as(ErrorCategory::not_found, call.request.path, "a view has one file: view.png");
  HttpResponse response;
  response.content_type = "image/png";
  response.body = s_.views->png(session.dir(), number);
  response.headers.emplace_back("Cache-Control", "private, max-age=3600");
  return response;
}

HttpResponse ApiHandler::events(Call& call, service::Session& session) {
  require(*call.who, Permission::read_events, session.mode());
  const auto after = seq_query(call.request, "after", 0);
  const auto limit = std::min<std::uint64_t>(seq_query(call.request, "limit", kMaxEventsPerPage), kMaxEventsPerPage);
  std::string body = "[";
  bool first = true;
  for (const auto& line : session.events_after(after, limit, service::viewer_of(*call.who))) {
    if (!first) body += ',';
    body += line;
    first = false;
  }
  body += "]";
  return http::json_response(200, std::move(body));
}

std::optional<HttpResponse> ApiHandler::open_stream(const HttpRequest& request, std::shared_ptr<http::StreamSink> sink) {
  try {
    static const std::regex stream_path(R"(/api/v1/sessions/([A-Za-z0-9_-]{1,64})/stream)");
    std::smatch m;
    if (!std::regex_match(request.path, m, stream_path)) fail_as(ErrorCategory::not_found, request.path, "no stream here");
    if (!request.origin.empty() && origin_authority(request.origin) != request.host)
      fail_as(ErrorCategory::forbidden, "Origin", "{} is not this server ({}): a stream is opened from its own console",
              request.origin, request.host);
    const Principal who = authenticate(request);
    const auto session = s_.sessions.find(m[1].str());
    require(who, Permission::open_stream, session->mode());
    session->subscribe(std::move(sink), seq_query(request, "after", 0), service::viewer_of(who));
    return std::nullopt;
  } catch (const Error& e) {
    return http::error_response(e);
  }
}

}  // namespace cadereau::server::api
