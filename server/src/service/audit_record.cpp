#include "audit_record.h"

#include "crypto.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <ctime>

namespace cadereau::server::service {

namespace {

using nlohmann::json;

std::optional<AuditRecord> refuse(std::string& problem, std::string why) {
  problem = std::move(why);
  return std::nullopt;
}

constexpr std::array<std::string_view, 11> kFields{"action", "detail", "hash",   "prev_hash", "result", "role",
                                                   "seq",    "session", "target", "time",      "user"};

json body_of(const AuditRecord& r) {
  return json{{"seq", r.seq},
              {"time", r.time},
              {"user", r.entry.user},
              {"role", r.entry.role ? std::string(to_string(*r.entry.role)) : std::string()},
              {"action", r.entry.action},
              {"session", r.entry.session},
              {"target", r.entry.target},
              {"result", r.entry.result},
              {"detail", r.entry.detail},
              {"prev_hash", r.prev_hash}};
}

std::string canonical(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string hash_of(const AuditRecord& r) { return chained_sha256_hex(r.prev_hash, canonical(body_of(r))); }

bool is_hex64(const json& j) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The record a parsed line holds, or why not; checks the form only.
std::optional<AuditRecord> record_of(const json& j, std::string& problem) {
  if (!j.is_object()) return refuse(problem, "not a JSON object");
  for (const auto& f : kFields)
    if (!j.contains(f)) return refuse(problem, fmt::format("missing \"{}\"", f));
  if (j.size() != kFields.size()) return refuse(problem, "fields other than the record's");
  for (const char* f : {"time", "user", "role", "action", "session", "target", "detail"})
    if (!j[f].is_string()) return refuse(problem, fmt::format("\"{}\" is not a string", f));
  if (!j["seq"].is_number_unsigned()) return refuse(problem, "\"seq\" is not a whole number");
  if (!j["result"].is_number_integer()) return refuse(problem, "\"result\" is not a whole number");
  if (!is_hex64(j["prev_hash"]) || !is_hex64(j["hash"]))
    return refuse(problem, "a hash that is not 64 lowercase hex digits");
  AuditRecord r;
  r.seq = j["seq"].get<std::uint64_t>();
  r.time = j["time"].get<std::string>();
  r.entry.user = j["user"].get<std::string>();
  if (const auto role = j["role"].get<std::string>(); !role.empty()) {
    try {
      r.entry.role = parse_role(role);
    } catch (const Error& e) {
      return refuse(problem, e.what());
    }
  }
  r.entry.action = j["action"].get<std::string>();
  r.entry.session = j["session"].get<std::string>();
  r.entry.target = j["target"].get<std::string>();
  r.entry.result = j["result"].get<int>();
  r.entry.detail = j["detail"].get<std::string>();
  r.prev_hash = j["prev_hash"].get<std::string>();
  r.hash = j["hash"].get<std::string>();
  return r;
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string iso_utc(double epoch_s) {
  using namespace std::chrono;
  return iso8601_utc(system_clock::time_point(duration_cast<system_clock::duration>(duration<double>(epoch_s))));
}

std::optional<double> local_epoch_s(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<double>(t);
}

AuditRecord seal(const AuditEntry& entry, std::uint64_t seq, std::string time, std::string prev_hash) {
  AuditRecord r{seq, std::move(time), entry, std::move(prev_hash), {}};
  r.hash = hash_of(r);
  return r;
}

std::string to_line(const AuditRecord& record) {
  json j = body_of(record);
  j["hash"] = record.hash;
  return canonical(j);
}

std::optional<AuditRecord> check_line(std::string_view line, std::uint64_t expected_seq,
                                      std::string_view expected_prev_hash, std::string& problem) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return refuse(problem, "not valid JSON");
  auto r = record_of(j, problem);
  if (!r) return std::nullopt;
  if (r->seq != expected_seq) return refuse(problem, fmt::format("seq {} where {} was expected", r->seq, expected_seq));
  if (r->prev_hash != expected_prev_hash)
    return refuse(problem, fmt::format("prev_hash does not link to the hash of seq {}", expected_seq - 1));
  // Rebuilt from the raw JSON so that a value our types would normalise
  // still counts as tampering.
  json body = j;
  body.erase("hash");
  if (chained_sha256_hex(r->prev_hash, canonical(body)) != r->hash)
    return refuse(problem, "hash does not match the record's content");
  return r;
}

}  // namespace cadereau::server::service
