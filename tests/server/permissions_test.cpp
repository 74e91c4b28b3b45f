// Roles, cells and session modes as text, and the permission table checked
// cell by cell against a table written out here independently of the code.

#include "service/permissions.h"
#include "service/roles.h"

#include "auth_test_support.h"

#include "cadereau/sim/engine/engine.h"
#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace cadereau::server::service;

namespace {

// Every kind of principal the table distinguishes, in the column order of
// kExpected below.
struct Column {
  const char* label;
  Principal who;
};
const std::vector<Column> kColumns = {
    {"admin", {"ann", Role::admin, {}}},
    {"director", {"dan", Role::director, {}}},
    {"operator", {"oli", Role::live_operator, {}}},
    {"player/police", {"pat", Role::player, Cell::police}},
    {"player/traffic", {"tom", Role::player, Cell::traffic}},
    {"player/crisis", {"cat", Role::player, Cell::crisis}},
    {"player/flood", {"flo", Role::player, Cell::flood}},
    {"player/reports", {"rob", Role::player, Cell::reports}},
    {"player/no cell", {"nic", Role::player, {}}},
    {"observer", {"obi", Role::observer, {}}},
};

// For each permission and column, the modes in which it is allowed:
// E exercise, L live, R replay, "-" none.
const std::map<std::string, std::vector<std::string>> kExpected = {
    //                      admin  dir    oper   police traffic crisis flood  reports nocell observer
    {"health",              {"ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR"}},
    {"login",               {"ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR"}},
    {"list_sessions",       {"ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR", "ELR"}},
    {"manage_users",        {"ELR", "-",   "-",   "-",   "-",   "-",   "-",   "-",   "-",   "-"}},
    {"create_session",      {"ELR", "ER",  "L",   "-",   "-",   "-",   "-",   "-",   "-",   "-"}},
    {"read_session",        {"ELR", "ELR", "LR",  "E",   "E",   "E",   "E",   "E",   "E",   "ELR"}},
    {"read_events",         {"ELR", "ELR", "LR",  "E",   "E",   "E",   "E",   "E",   "E",   "ELR"}},
    {"open_stream",         {"ELR", "ELR", "LR",  "E",   "E",   "E",   "E",   "E",   "E",   "ELR"}},
    {"control_clock",       {"ELR", "ER",  "L",   "-",   "-",   "-",   "-",   "-",   "-",   "-"}},
    {"post_action",         {"EL",  "-",   "L",   "E",   "E",   "E",   "-",   "-",   "-",   "-"}},
    {"upload_msel",         {"E",   "E",   "-",   "-",   "-",   "-",   "-",   "-",   "-",   "-"}},
    {"fire_inject",         {"E",   "E",   "-",   "-",   "-",   "-",   "-",   "-",   "-",   "-"}},
    {"send_alert",          {"EL",  "-",   "L",   "-",   "-",   "E",   "-",   "-",   "-",   "-"}},
    {"post_citizen_report", {"EL",  "-",   "L",   "-",   "-",   "-",   "E",   "E",   "-",   "-"}},
    {"post_observation",    {"EL",  "-",   "L",   "-",   "-",   "-",   "E",   "E",   "-",   "-"}},
    {"plan_lights",         {"EL",  "E",   "L",   "-",   "E",   "-",   "-",   "-",   "-",   "-"}},
};

char letter(SessionMode mode) {
  switch (mode) {
    case SessionMode::exercise: return 'E';
    case SessionMode::live: return 'L';
    case SessionMode::replay: return 'R';
  }
  return '?';
}

}  // namespace

TEST_CASE("Roles, cells and modes read back what they write", "[unit][auth]") {
  for (Role r : {Role::admin, Role::director, Role::live_operator, Role::player, Role::observer})
    CHECK(parse_role(to_string(r)) == r);
  for (Cell c : {Cell::police, Cell::traffic, Cell::crisis, Cell::flood, Cell::reports}) CHECK(parse_cell(to_string(c)) == c);
  for (SessionMode m : {SessionMode::exercise, SessionMode::live, SessionMode::replay})
    CHECK(parse_session_mode(to_string(m)) == m);
  CHECK(to_string(Role::live_operator) == "operator");
  CHECK(parse_role("operator") == Role::live_operator);
}

TEST_CASE("A bad role, cell or mode is refused naming it and the accepted ones", "[unit][auth]") {
  try {
    parse_role("live_operator");
    FAIL("accepted");
  } catch (const cadereau::Error& e) {
    CHECK(e.category() == cadereau::ErrorCategory::bad_input);
    CHECK_THAT(e.what(), Catch::Contains("'live_operator'") && Catch::Contains("admin, director, operator, player, observer"));
  }
  CHECK(cadereau::testing::error_category([] { parse_cell("Police"); }) == cadereau::ErrorCategory::bad_input);
  CHECK(cadereau::testing::error_category([] { parse_session_mode(""); }) == cadereau::ErrorCategory::bad_input);
  CHECK_THROWS_WITH(parse_session_mode("training"), Catch::Contains("exercise, live, replay"));
}

TEST_CASE("Every permission, role and mode gets the decision of the written table", "[unit][auth]") {
  REQUIRE(kExpected.size() == kAllPermissions.size());
  std::set<Permission> distinct(kAllPermissions.begin(), kAllPermissions.end());
  REQUIRE(distinct.size() == kAllPermissions.size());
  int checked = 0;
  for (Permission p : kAllPermissions) {
    const std::string name(to_string(p));
    REQUIRE(kExpected.count(name) == 1);
    const auto& row = kExpected.at(name);
    REQUIRE(row.size() == kColumns.size());
    for (std::size_t c = 0; c < kColumns.size(); ++c) {
      for (SessionMode mode : {SessionMode::exercise, SessionMode::live, SessionMode::replay}) {
        const bool expected = row[c].find(letter(mode)) != std::string::npos;
        const Decision d = authorize(kColumns[c].who, p, mode);
        INFO(name << " by " << kColumns[c].label << " in a " << to_string(mode) << " session: " << d.reason);
        CHECK(d.allowed == expected);
        CHECK(static_cast<bool>(d) == d.allowed);
        // A refusal always says why, for the 403 message.
        if (!d.allowed) CHECK(!d.reason.empty());
        ++checked;
      }
    }
  }
  CHECK(checked == 16 * 10 * 3);
}

TEST_CASE("The rules that hold for admins too", "[unit][auth]") {
  const Principal admin{"ann", Role::admin, {}};
  CHECK_FALSE(authorize(admin, Permission::fire_inject, SessionMode::live));
  CHECK_THAT(authorize(admin, Permission::fire_inject, SessionMode::live).reason, Catch::Contains("exercise"));
  CHECK_FALSE(authorize(admin, Permission::post_action, SessionMode::replay));
  CHECK_THAT(authorize(admin, Permission::post_action, SessionMode::replay).reason, Catch::Contains("read-only"));
}

TEST_CASE("Players use only their cell's verbs", "[unit][auth]") {
  using cadereau::sim::engine::Verb;
  const std::vector<Verb> police{Verb::close_road, Verb::close_road_to_traffic, Verb::reopen_road, Verb::lower_bollard,
                                 Verb::raise_bollard};
  const std::vector<Verb> traffic{Verb::speed_limit,  Verb::restore_speed_limit, Verb::light_program,
                                  Verb::light_off,    Verb::light_flashing,      Verb::restore_light};
  const auto player = [](Cell c) { return Principal{"p", Role::player, c}; };
  for (const auto v : police) {
    INFO(cadereau::sim::engine::to_string(v));
    CHECK(may_use_verb(player(Cell::police), v));
    CHECK_FALSE(may_use_verb(player(Cell::traffic), v));
    CHECK(may_use_verb(player(Cell::crisis), v));
  }
  for (const auto v : traffic) {
    INFO(cadereau::sim::engine::to_string(v));
    CHECK(may_use_verb(player(Cell::traffic), v));
    CHECK_FALSE(may_use_verb(player(Cell::police), v));
    CHECK(may_use_verb(player(Cell::crisis), v));
  }
  // Every verb the engine knows belongs to the police or the traffic cell, and
  // only admins, operators and those cells (and crisis) may use it.
  for (const auto& name : cadereau::sim::engine::verb_names()) {
    INFO(name);
    const Verb v = *cadereau::sim::engine::parse_verb(name);
    const bool is_police = std::find(police.begin(), police.end(), v) != police.end();
    const bool is_traffic = std::find(traffic.begin(), traffic.end(), v) != traffic.end();
    CHECK(is_police != is_traffic);
    CHECK(may_use_verb({"a", Role::admin, {}}, v));
    CHECK(may_use_verb({"o", Role::live_operator, {}}, v));
    CHECK_FALSE(may_use_verb({"d", Role::director, {}}, v));
    CHECK_FALSE(may_use_verb({"b", Role::observer, {}}, v));
    CHECK_FALSE(may_use_verb(player(Cell::flood), v));
    CHECK_FALSE(may_use_verb(player(Cell::reports), v));
    CHECK_FALSE(may_use_verb({"n", Role::player, {}}, v));
  }
  CHECK(cadereau::sim::engine::verb_names().size() == police.size() + traffic.size());
}
