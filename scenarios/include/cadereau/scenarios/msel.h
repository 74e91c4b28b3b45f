#pragma once
// A Master Scenario Events List (MSEL) in CSV with the ten HSEEP columns:
//
//   Event Number, Designated Scenario Time, Event Type, Inject Mode, From, To,
//   Message, Expected Participant Response, Exercise Objective, Notes
//
// read as RFC 4180 CSV (quoted fields with commas, quotes and line breaks
// inside, CRLF or LF, a UTF-8 byte-order mark) with the header on the first
// line (column names matched without regard to case or spacing, in any
// order; further columns such as the export's state columns are ignored).
//
// Designated Scenario Time says when the inject is delivered:
//   "07:40" or "07:40:30"    a clock time of the scenario's day (or seconds since the start)
//   "manual"                 only when the director fires it
//   "after 12" / "after 12 +5min"  when inject 12 is delivered, plus a delay
//   "when lg-ales-ville > 2m [and h9_9 open|closed]"  when the water at a level
//                            gauge passes (> or <) a depth, and a road is (still)
//                            open or closed
// To names the cells it goes to, separated by ';' or ',' or '/': police,
// traffic, crisis, flood, reports, or "all".
//
// An eleventh column, Effect (not HSEEP's), says what the inject does to the
// twin when it is delivered, after its Event Type:
//   hazard    "inflow NAME 250 m3/s[, 400 m3/s at +20min, ...]"  a stream's flow
//             "rain ZONE 80 mm/h[, 0 mm/h at +1h]"  the rain over a rain gauge's
//             or zone's area, or "territory" for the rain everywhere
//             (times from the delivery; linear between the points, the last
//             value held)
//   sensor    "sensor ID 3.2"  a false reading of a sensor (in its unit)
//             "sensor ID failed"  the sensor reports a fault
//   report    "at ID" or "at LON LAT"  where the citizen report comes from
//             (an asset, a road edge or a sensor id, or WGS84 degrees)
//   incident  "block EDGE [EDGE...]"  roads blocked by a crash (closed to
//             every vehicle until a player reopens them)
// Other types (message, ...) have no effect. A hazard, sensor or incident
// needs its effect.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::scenarios {

inline constexpr const char* kMselCells[] = {"police", "traffic", "crisis", "flood", "reports"};

// What an inject does to the twin (the Effect column).
struct InjectEffect {
  enum class Kind { none, inflow, rain, sensor_reading, sensor_failure, report, road_blocked };
  Kind kind = Kind::none;
  std::string target;               // the inflow, rain zone, sensor, or the report's place id
  std::vector<double> offsets_s;    // inflow, rain: times after the delivery, increasing from 0
  std::vector<double> values;       // m3/s or mm/h at those times; sensor_reading: the value
  std::optional<double> lon, lat;   // report: a place in WGS84 degrees
  std::vector<std::string> roads;   // road_blocked: road edge ids
  std::string text;                 // as written
};

// Reads an Effect. Throws Error naming `where` when it does not read.
InjectEffect parse_effect(const std::string& text, const std::string& where);
// The Event Type an effect belongs to: hazard, sensor, report, incident ("" for none).
const char* effect_type(InjectEffect::Kind kind);

struct Inject {
  std::string number;  // Event Number: unique in the list
  enum class Trigger { at_time, manual, after, on_state };
  Trigger trigger = Trigger::at_time;
  double time_s = 0.0;          // at_time: seconds since the scenario's start
  std::string after;            // after: the Event Number it follows
  double delay_s = 0.0;         // after: delay once that one is delivered
  std::string gauge;            // on_state: a level gauge's sensor id
  double depth_m = 0.0;         // on_state: the water depth it passes
  bool rising = true;           // on_state: '>' (passes above) or '<' (falls below)
  std::string road;             // on_state: a road edge whose state is also required, or empty
  bool road_open = true;        // on_state: the road must be open (else closed)
  std::string when;             // Designated Scenario Time as written
  std::string type;             // Event Type ("message", "sensor", "report", ...)
  std::string mode;             // Inject Mode ("phone", "radio", "email", ...)
  std::string from;
  std::vector<std::string> to;  // cells, or {"all"}
  std::string message;
  std::string expected;         // Expected Participant Response
  std::string objective;        // Exercise Objective
  std::string notes;
  InjectEffect effect;
  int line = 0;                 // the CSV line where its row starts
};

// One inject as written (an MSEL row, a scenario's `injects:` entry).
struct InjectText {
  std::string number, when, type, mode, from, to, message, expected, objective, notes, effect;
};
// Reads one inject. Throws Error (bad_input) naming `where` for a bad time,
// an unknown cell, an Event Type that does not match its Effect, or no Message.
Inject read_inject(const InjectText& text, const std::string& where, double start_clock_s);
// Refuses a list with an Event Number twice, an "after" naming no inject or
// making a cycle (errors name `where` and the line).
void check_injects(const std::vector<Inject>& injects, const std::string& where);

// Reads an MSEL. `start_clock_s` is the scenario's start time of day
// (seconds after midnight) for clock times. Throws cadereau::Error
// "WHERE:LINE: what is wrong" (bad_input) for a missing column, a bad time,
// an unknown cell, a duplicate or missing Event Number, an "after" naming
// no inject or making a cycle, an unterminated quote.
std::vector<Inject> parse_msel(std::string_view csv, const std::string& where, double start_clock_s);

// One inject as exported, with what happened to it.
struct InjectOutcome {
  std::string state;        // scheduled, on_hold, delivered, acknowledged, cancelled
  std::string delivered;    // clock time, empty when not delivered
  std::string acknowledged; // clock time and who
  std::string response;     // the acknowledging player's comment
};

// The MSEL as CSV (CRLF, every field quoted when needed): the ten HSEEP
// columns, Effect when an inject has one, then State, Delivered, Acknowledged and Response when `outcomes`
// is given (one per inject). parse_msel() reads it back.
std::string msel_csv(const std::vector<Inject>& injects, const std::vector<InjectOutcome>* outcomes = nullptr);

// RFC 4180 fields of `csv`, one vector per record, each with the line where
// it starts. Throws Error "WHERE:LINE: ..." for an unterminated quote or a
// character after a closing quote.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRecord> read_csv(std::string_view csv, const std::string& where);

// The flagship exercise's MSEL (scenarios/flash-flood-1988.msel.csv): the
// 1988 flood seen by the five cells of a Nîmes-type crisis room.
std::string flagship_msel_text();

}  // namespace cadereau::scenarios
