// Green-wave plans as server jobs (server/src/service/greenwave_jobs.h): the
// request checked field by field, and a job's life (running, done, failed
// with the planner's reason in the request's words, one at a time,
// interrupted) with a stand-in planner, so that no SUMO runs here; the
// console test runs the real one.

#include "service/greenwave_jobs.h"
#include "job_test_support.h"
#include "test_support.h"
#include "worker/supervisor.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

using cadereau::Error;
using cadereau::ErrorCategory;
using cadereau::server::service::GreenwaveJobs;
using cadereau::server::service::GreenwaveRequest;
using cadereau::server::service::parse_greenwave_request;
using cadereau::testing::category_of;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using nlohmann::json;

namespace {

std::string where_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.where();
  }
  return "";
}

// Stands in for `cadereau greenwave`: lights named BAD are refused as the
// planner refuses them, SLOW ones take a minute, others give a report.
constexpr const char* kPlanner = R"(#!/bin/sh
out=""; tls=""; prev=""
for a in "$@"; do
  [ "$prev" = "--out" ] && out="$a"
  [ "$prev" = "--tls" ] && tls="$a"
  prev="$a"
done
case "$tls" in
  *BAD*) echo "greenwave: reading the network" >&2; echo "cadereau: --tls $tls: BAD is not on avenue du Languedoc" >&2; exit 1;;
  *SLOW*) echo "greenwave: baseline: simulating" >&2; echo "greenwave: simulating 6 starting plans on 1 seeds" >&2; exec sleep 60;;
esac
echo "$@" > "$out/args.txt"
echo '{"baseline": {"all_trips": {"vehicles": 10}}, "plan": {"all_trips": {"vehicles": 10}}}' > "$out/report.json"
echo '<additional/>' > "$out/plan.add.xml"
echo '<svg xmlns="http://www.w3.org/2000/svg"/>' > "$out/time_space_plan.svg"
echo '<svg xmlns="http://www.w3.org/2000/svg"/>' > "$out/time_space_plan-2.svg"
)";

json wait_done(const GreenwaveJobs& jobs, const std::filesystem::path& session, int n) {
  return cadereau::testing::until_ended([&] { return jobs.job(session, n); }, "plan " + std::to_string(n));
}

}  // namespace

TEST_CASE("A green-wave request is checked field by field", "[unit][greenwave]") {
  const auto ok = parse_greenwave_request(json{{"tls", {"J1", "J2", "J3"}}, {"speed_kmh", 40}, {"begin_s", 25200}});
  CHECK(ok.tls == std::vector<std::string>{"J1", "J2", "J3"});
  CHECK(ok.speed_kmh == 40.0);
  CHECK(ok.begin_s == 25200.0);
  CHECK_FALSE(ok.end_s);
  CHECK(parse_greenwave_request(json{{"tls", {"J1", "J2"}}}).speed_kmh == 50.0);
  const auto searched =
      parse_greenwave_request(json{{"tls", {"J1", "J2"}}, {"budget_s", 60}, {"seeds", 3}, {"periods", "one"}});
  CHECK(searched.budget_s == 60.0);
  CHECK(searched.seeds == 3);
  CHECK(searched.periods == "one");
  CHECK(ok.budget_s == 0.0);
  CHECK(ok.seeds == 1);
  CHECK(ok.periods == "auto");

  const std::vector<std::pair<json, std::string>> bad = {
      {json::array(), "body"},
      {json{{"tls", "J1,J2"}}, "tls"},
      {json{{"tls", {"J1"}}}, "tls"},
      {json{{"tls", {"J1", "J1"}}}, "tls"},
      {json{{"tls", {"J1", 2}}}, "tls"},
      {json{{"tls", {"--help", "J1"}}}, "tls"},
      {json{{"tls", {"J1", "a b"}}}, "tls"},
      {json{{"tls", {"J1", std::string(65, 'J')}}}, "tls"},
      {json{{"tls", {"J1", "J2"}}, {"speed_kmh", 0}}, "speed_kmh"},
      {json{{"tls", {"J1", "J2"}}, {"speed_kmh", "50"}}, "speed_kmh"},
      {json{{"tls", {"J1", "J2"}}, {"cycle_s", 1000}}, "cycle_s"},
      {json{{"tls", {"J1", "J2"}}, {"begin_s", 100}, {"end_s", 50}}, "end_s"},
      {json{{"tls", {"J1", "J2"}}, {"end_s", -5}}, "end_s"},
      {json{{"tls", {"J1", "J2"}}, {"budget_s", 5000}}, "budget_s"},
      {json{{"tls", {"J1", "J2"}}, {"budget_s", "60"}}, "budget_s"},
      {json{{"tls", {"J1", "J2"}}, {"seeds", 0}}, "seeds"},
      {json{{"tls", {"J1", "J2"}}, {"seeds", 2.5}}, "seeds"},
      {json{{"tls", {"J1", "J2"}}, {"periods", "daily"}}, "periods"},
      {json{{"tls", {"J1", "J2"}}, {"periods", 3}}, "periods"},
  };
  for (const auto& [body, field] : bad) {
    INFO(body.dump());
    CHECK(category_of([&] { parse_greenwave_request(body); }) == ErrorCategory::bad_input);
    CHECK(where_of([&] { parse_greenwave_request(body); }) == field);
  }
  json many = {{"tls", json::array()}};
  for (int k = 0; k < 41; ++k) many["tls"].push_back(std::string("J").append(std::to_string(k)));
  CHECK(category_of([&] { parse_greenwave_request(many); }) == ErrorCategory::bad_input);
}

TEST_CASE("Green-wave plans run one at a time and say how they ended", "[unit][greenwave]") {
  TempDir dir;
  const auto planner = dir / "planner.sh";
  write_text(planner, kPlanner);
  ::chmod(planner.c_str(), 0755);
  const auto territory = dir / "territory";
  write_text(territory / "territory.yaml",
             "name: test\ncrs: EPSG:2154\ndem: dem.tif\nnetwork: network.net.xml\ndemand: [demand.rou.xml]\n");
  const auto session = dir / "session";
  std::filesystem::create_directories(session);
  cadereau::server::worker::Supervisor supervisor(planner);
  GreenwaveJobs jobs(supervisor);

  CHECK(jobs.list(session)["jobs"].empty());
  CHECK(category_of([&] { jobs.job(session, 1); }) == ErrorCategory::not_found);

  GreenwaveRequest request;
  request.tls = {"J1", "J2", "J3"};
  request.begin_s = 25200;
  auto started = jobs.start(session, territory, request, "player:tom");
  CHECK(started["job"] == 1);
  CHECK(started["state"] == "running");
  auto done = wait_done(jobs, session, 1);
  CHECK(done["state"] == "done");
  CHECK(done["by"] == "player:tom");
  CHECK(done["request"]["tls"] == json{"J1", "J2", "J3"});
  CHECK(done["request"]["begin_s"] == 25200.0);
  CHECK(done["report"]["plan"]["all_trips"]["vehicles"] == 10);
  CHECK(done["files"] == json{"report.json", "plan.add.xml", "time_space_plan.svg", "time_space_plan-2.svg"});
  CHECK(done["request"]["budget_s"] == 0.0);
  CHECK(done["request"]["seeds"] == 1);
  CHECK(done["request"]["periods"] == "auto");
  // The search's settings reach the planner, one simulation at a time.
  CHECK_THAT(cadereau::testing::read_text(session / "greenwave" / "1" / "args.txt"),
             Catch::Contains("--budget-s 0 --seeds 1 --periods auto --workers 1"));
  std::string type;
  CHECK(jobs.file(session, 1, "plan.add.xml", &type) == "<additional/>\n");
  CHECK(type == "application/xml");
  CHECK(jobs.file(session, 1, "time_space_plan.svg", &type).find("<svg") == 0);
  CHECK(type == "image/svg+xml");
  // A period's diagram, by its number.
  CHECK(jobs.file(session, 1, "time_space_plan-2.svg", &type).find("<svg") == 0);
  CHECK(type == "image/svg+xml");
  CHECK(category_of([&] { jobs.file(session, 1, "time_space_plan-3.svg", &type); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { jobs.file(session, 1, "time_space_plan-99.svg", &type); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { jobs.file(session, 1, "time_space_plan-2.svg.bak", &type); }) == ErrorCategory::not_found);
  // Only the planner's outputs, and only those written.
  CHECK(category_of([&] { jobs.file(session, 1, "time_space_baseline.svg", &type); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { jobs.file(session, 1, "request.json", &type); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { jobs.file(session, 1, "../1/run.log", &type); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { jobs.file(session, 2, "report.json", &type); }) == ErrorCategory::not_found);

  // The planner's refusal, in the request's words rather than its command line's.
  request.tls = {"J1", "BAD"};
  CHECK(jobs.start(session, territory, request, "player:tom")["job"] == 2);
  auto failed = wait_done(jobs, session, 2);
  CHECK(failed["state"] == "failed");
  CHECK(failed["problem"] == "tls J1,BAD: BAD is not on avenue du Languedoc");
  CHECK_FALSE(failed.contains("report"));

  // One at a time, whichever session asks.
  request.tls = {"SLOW", "J2"};
  CHECK(jobs.start(session, territory, request, "admin:ann")["job"] == 3);
  const auto other = dir / "other";
  std::filesystem::create_directories(other);
  CHECK(category_of([&] { jobs.start(other, territory, request, "admin:ann"); }) == ErrorCategory::conflict);
  auto listed = jobs.list(session);
  CHECK(listed["running"] == 3);
  CHECK(listed["busy"] == true);
  CHECK(listed["jobs"].size() == 3);
  CHECK(jobs.list(other)["running"].is_null());
  CHECK(jobs.list(other)["busy"] == true);
  CHECK(jobs.job(session, 3)["elapsed_s"].get<double>() >= 0.0);
  // While it runs, its last progress line.
  const auto progress = cadereau::testing::until_ended(
      [&] {
        auto j = jobs.job(session, 3);
        if (j.value("progress", "") == "simulating 6 starting plans on 1 seeds") j["state"] = "done";
        return j;
      },
      "plan 3's progress");
  CHECK(progress["progress"] == "simulating 6 starting plans on 1 seeds");
  // Stopped (the server going down): told as interrupted, and the next may start.
  jobs.stop();
  CHECK(wait_done(jobs, session, 3)["state"] == "interrupted");
  CHECK(jobs.list(session)["busy"] == false);

  // A territory without a network has nothing to plan on.
  write_text(territory / "territory.yaml", "name: test\ncrs: EPSG:2154\ndem: dem.tif\n");
  request.tls = {"J1", "J2"};
  CHECK(category_of([&] { jobs.start(session, territory, request, "admin:ann"); }) == ErrorCategory::not_found);
  supervisor.stop();
}

TEST_CASE("A plan left running by a server that stopped reads as interrupted", "[unit][greenwave]") {
  TempDir dir;
  const auto job = dir / "session" / "greenwave" / "1";
  write_text(job / "state.json", R"({"state": "running", "by": "admin:ann", "started_at": "2026-12-02T02:00:00Z"})");
  write_text(job / "request.json", R"({"tls": ["J1", "J2"], "speed_kmh": 50})");
  cadereau::server::worker::Supervisor supervisor("/bin/false");
  GreenwaveJobs jobs(supervisor);
  const auto j = jobs.job(dir / "session", 1);
  CHECK(j["state"] == "interrupted");
  CHECK(j["request"]["tls"] == json{"J1", "J2"});
  CHECK(jobs.list(dir / "session")["jobs"][0]["state"] == "interrupted");
  supervisor.stop();
}

TEST_CASE("A child stopped as soon as it starts ends by the signal, whatever handlers its parent has",
          "[unit][greenwave][supervisor]") {
  // This test process has Catch's handlers for SIGTERM: a child signalled
  // between fork and exec must not run them (it hung in malloc, holding the
  // test's output open).
  TempDir dir;
  cadereau::server::worker::Supervisor supervisor("/bin/sleep");
  for (int k = 0; k < 20; ++k) {
    std::atomic<int> status{-1};
    auto child = supervisor.run({"30"}, dir / "sleep.log", {nullptr, [&](int s) { status = s; }});
    child->signal(SIGTERM);
    for (int wait = 0; wait < 100 && status < 0; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    INFO("child " << k);
    REQUIRE(status >= 0);
    CHECK(WIFSIGNALED(status.load()));
    CHECK(WTERMSIG(status.load()) == SIGTERM);
  }
  supervisor.stop();
}

TEST_CASE("A child keeps none of the server's files and sockets open", "[unit][supervisor]") {
  // A client's socket inherited by a worker outlives the server's closing it:
  // the client's next request on that connection was never answered.
  TempDir dir;
  const int made = ::socket(AF_INET, SOCK_STREAM, 0);  // no close-on-exec, as Asio's sockets
  const int inherited = ::fcntl(made, F_DUPFD, 50);     // above the shell's own (it saves stdout at 10)
  ::close(made);
  REQUIRE(inherited >= 50);
  cadereau::server::worker::Supervisor supervisor("/bin/sh");
  std::atomic<int> status{-1};
  const auto child = supervisor.run({"-c", "ls /proc/$$/fd > " + (dir / "fds.txt").string()}, dir / "sh.log",
                                    {nullptr, [&](int s) { status = s; }});
  for (int wait = 0; wait < 200 && status < 0; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::close(inherited);
  supervisor.stop();
  INFO("its log: " << cadereau::testing::read_text(dir / "sh.log"));
  REQUIRE(status == 0);
  std::istringstream listed(cadereau::testing::read_text(dir / "fds.txt"));
  std::set<int> fds;
  for (int fd; listed >> fd;) fds.insert(fd);
  INFO("the child's open files: " << cadereau::testing::read_text(dir / "fds.txt"));
  CHECK(fds.count(inherited) == 0);
  CHECK(*fds.rbegin() < 50);
}
