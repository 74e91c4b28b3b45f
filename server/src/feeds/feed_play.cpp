#include "feed_play.h"

#include "feed_plan.h"
#include "mqtt_publisher.h"
#include "uplink.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"
#include "cadereau/twin/territory.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <random>
#include <thread>
#include <unistd.h>

namespace cadereau::server::feeds {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr double kMinSpeed = 0.1;
constexpr double kMaxSpeed = 3600.0;
// Progress lines at most this often.
constexpr auto kProgressEvery = std::chrono::seconds(1);

struct PlayOptions {
  std::string broker;
  double speed = 1.0;
  std::string application = "cadereau-demo";
  std::optional<std::filesystem::path> recording;
  std::optional<std::filesystem::path> territory;
  std::chrono::seconds connect_within{10};
  FeedPlanOptions plan;
};

// A scenario time option: HH:MM[:SS] on the scenario's day or seconds, within its run.
double scenario_time_s(const std::string& option, const std::string& text, const scenarios::Scenario& scenario) {
  const auto t = scenarios::time_since_start_s(text, scenario.start_clock_s);
  if (!t || *t < 0.0 || *t > scenario.duration_s)
    throw UsageError{fmt::format("--{} {}: expected HH:MM[:SS] on the scenario's day or seconds after its start, "
                                 "from {} to {}",
                                 option, text, scenarios::clock_of(scenario, 0.0),
                                 scenarios::clock_of(scenario, scenario.duration_s))};
  return *t;
}

// The territory folder: given, else the recording's run's, else the scenario's own.
std::filesystem::path territory_folder(const PlayOptions& o, const scenarios::Scenario& scenario,
                                       const twin::RecordingReader* recording) {
  if (o.territory) return *o.territory;
  if (recording) {
    const auto run = nlohmann::json::parse(recording->meta().run_options_json, nullptr, false);
    if (run.is_object() && run.contains("territory") && run["territory"].is_string())
      return run["territory"].get<std::string>();
  }
  if (scenario.territory == "demo")
    throw UsageError{"the scenario's territory is 'demo': give --territory DIR (a server's DATA/territories/demo, or "
                     "one written by `cadereau territory demo --out DIR`) or a --recording of the scenario"};
  return scenario.territory_folder();
}

// A ChirpStack deduplicationId (a UUID's shape), new on every run so that a
// server that heard an earlier run does not take these for repeats.
class DeduplicationIds {
 public:
  DeduplicationIds() : random_(std::random_device{}()) {}
  std::string next() {
    const std::uint64_t a = random_(), b = random_();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                       0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
  }

 private:
  std::mt19937_64 random_;
};

PlayOptions parse_options(Args& args, const scenarios::Scenario& scenario) {
  PlayOptions o;
  const auto broker = args.take("mqtt");
  if (!broker) throw UsageError{"feed play needs --mqtt HOST:PORT"};
  o.broker = *broker;
  o.speed = args.take_number("speed", 1.0, kMinSpeed, kMaxSpeed);
  o.plan.noise = args.take_number("noise", 0.0, 0.0, 10.0);
  o.plan.gaps = args.take_number("gaps", 0.0, 0.0, 1.0);
  o.plan.duplicates = args.take_number("duplicates", 0.0, 0.0, 1.0);
  o.plan.seed = static_cast<std::uint64_t>(args.take_integer("seed", 1, 0, 1'000'000'000'000'000LL));
  o.plan.every_s = args.take_number("every", 300.0, 1.0, 86400.0);
  if (auto r = args.take("recording")) o.recording = *r;
  if (auto t = args.take("territory")) o.territory = *t;
  if (auto a = args.take("application")) {
    if (a->empty() || a->find_first_of("/+#") != std::string::npos)
      throw UsageError{"--application " + *a + ": an MQTT topic level (no '/', '+' or '#')"};
    o.application = *a;
  }
  o.connect_within = std::chrono::seconds(args.take_integer("connect-timeout", 10, 1, 600));
  if (auto s = args.take("sensors")) {
    for (auto& id : split_commas(*s)) {
      if (id.empty()) throw UsageError{"--sensors " + *s + ": an empty sensor id"};
      o.plan.sensors.push_back(std::move(id));
    }
  }
  o.plan.from_s = 0.0;
  o.plan.until_s = scenario.duration_s;
  if (auto from = args.take("from")) o.plan.from_s = scenario_time_s("from", *from, scenario);
  if (auto until = args.take("until")) o.plan.until_s = scenario_time_s("until", *until, scenario);
  if (o.plan.until_s < o.plan.from_s)
    throw UsageError{fmt::format("--until {} is before --from {}", scenarios::clock_of(scenario, o.plan.until_s),
                                 scenarios::clock_of(scenario, o.plan.from_s))};
  return o;
}

void describe_plan(const FeedPlan& plan, const PlayOptions& o, const scenarios::Scenario& scenario, std::ostream& out) {
  for (const auto& [id, how] : plan.played) out << fmt::format("feed play: {}: {}\n", id, how);
  for (const auto& [id, why] : plan.skipped) out << fmt::format("feed play: {} not played: {}\n", id, why);
  const double wall_s = (o.plan.until_s - o.plan.from_s) / o.speed;
  out << fmt::format(
      "feed play: {} readings, one per sensor every {:.0f} s of scenario time, {} to {} at speed {} ({:.0f} s of wall "
      "time)\n",
      plan.readings.size(), o.plan.every_s, scenarios::clock_of(scenario, o.plan.from_s),
      scenarios::clock_of(scenario, o.plan.until_s), o.speed, wall_s);
  out << std::flush;
}

}  // namespace

int feed_play_command(Args& args, std::ostream& out, std::ostream& err) {
  if (args.positional().empty()) throw UsageError{"feed play needs one scenario file: cadereau feed play SCENARIO.yaml --mqtt HOST:PORT"};
  const scenarios::Scenario scenario = scenarios::read_scenario(args.positional()[0]);
  PlayOptions o = parse_options(args, scenario);
  args.finish(1);
  std::optional<twin::RecordingReader> recording;
  if (o.recording) recording.emplace(*o.recording);
  const twin::Territory territory = twin::Territory::load(territory_folder(o, scenario, recording ? &*recording : nullptr));
  const FeedPlan plan = plan_feed(scenario, territory, recording ? &*recording : nullptr, o.plan);
  describe_plan(plan, o, scenario, out);
  if (plan.readings.empty()) fail("feed play", "no sensor to play");

  MqttPublisher publisher(o.broker, fmt::format("cadereau-feed-play-{}", ::getpid()), o.connect_within);
  DeduplicationIds ids;
  const auto wall_start = std::chrono::system_clock::now();
  const double wall_start_epoch_s = std::chrono::duration<double>(wall_start.time_since_epoch()).count();
  const auto steady_start = SteadyClock::now();
  const bool tty = isatty(STDERR_FILENO);
  long sent = 0, gaps = 0, twice = 0, frame = 0;
  auto last_progress = steady_start;
  const auto progress = [&](double t_s, bool last) {
    const auto now = SteadyClock::now();
    if (!last && now - last_progress < kProgressEvery) return;
    last_progress = now;
    const double share = o.plan.until_s > o.plan.from_s ? (t_s - o.plan.from_s) / (o.plan.until_s - o.plan.from_s) : 1.0;
    err << fmt::format("{}feed play: {} sent, {} gaps, {} duplicates, scenario {} ({:.0f} %){}", tty ? "\r" : "", sent,
                       gaps, twice, scenarios::clock_of(scenario, t_s), 100.0 * share, tty && !last ? "" : "\n")
        << std::flush;
  };
  for (const auto& r : plan.readings) {
    const double offset_s = (r.t_s - o.plan.from_s) / o.speed;
    std::this_thread::sleep_until(steady_start + std::chrono::duration_cast<SteadyClock::duration>(
                                                     std::chrono::duration<double>(offset_s)));
    progress(r.t_s, false);
    if (r.dropped) {
      ++gaps;
      continue;
    }
    Uplink u;
    u.deduplication_id = ids.next();
    u.dev_eui = r.dev_eui;
    u.time_epoch_s = wall_start_epoch_s + offset_s;
    u.water_level_m = r.water_level_m;
    u.rain_mm = r.rain_mm;
    const std::string topic = fmt::format("application/{}/device/{}/event/up", o.application, r.dev_eui);
    const std::string payload = uplink_payload(u, o.application, ++frame);
    publisher.publish(topic, payload);
    ++sent;
    if (r.duplicated) {
      // A gateway's repeat: the same uplink, the same deduplicationId.
      publisher.publish(topic, payload);
      ++twice;
    }
  }
  publisher.flush(std::chrono::seconds(30));
  progress(o.plan.until_s, true);
  const double wall_s = std::chrono::duration<double>(SteadyClock::now() - steady_start).count();
  out << fmt::format(
      "feed play: {} uplinks published to {} and acknowledged ({} readings, {} dropped as gaps, {} sent twice), "
      "scenario {} to {} in {:.1f} s\n",
      publisher.acknowledged(), o.broker, sent, gaps, twice, scenarios::clock_of(scenario, o.plan.from_s),
      scenarios::clock_of(scenario, o.plan.until_s), wall_s);
  return 0;
}

}  // namespace cadereau::server::feeds
