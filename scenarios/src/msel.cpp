#include "cadereau/scenarios/msel.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <set>

namespace cadereau::scenarios {
namespace {

constexpr std::array<const char*, 10> kColumns = {
    "Event Number", "Designated Scenario Time", "Event Type", "Inject Mode", "From", "To", "Message",
    "Expected Participant Response", "Exercise Objective", "Notes"};
constexpr std::array<const char*, 4> kOutcomeColumns = {"State", "Delivered", "Acknowledged", "Response"};

// "Event Number" -> "eventnumber": headers match whatever their case and spacing.
std::string column_key(std::string_view name) {
  std::string key;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c))) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return std::string(s.substr(first, last - first + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_cells(const std::string& text, const std::string& where) {
  std::vector<std::string> cells;
  std::string current;
  const auto flush = [&] {
    std::string cell = lower(trim(current));
    current.clear();
    if (cell.empty()) return;
    const bool known = cell == "all" || std::any_of(std::begin(kMselCells), std::end(kMselCells),
                                                     [&](const char* c) { return cell == c; });
    if (!known)
      fail(where, "To: '{}' is not a cell (police, traffic, crisis, flood, reports or all)", cell);
    if (std::find(cells.begin(), cells.end(), cell) == cells.end()) cells.push_back(cell);
  };
  for (char c : text) {
    if (c == ';' || c == ',' || c == '/')
      flush();
    else
      current += c;
  }
  flush();
  if (cells.empty()) fail(where, "To: names no cell (police, traffic, crisis, flood, reports or all)");
  if (std::find(cells.begin(), cells.end(), "all") != cells.end()) return {"all"};
  return cells;
}

void read_trigger(Inject& inject, const std::string& where, double start_clock_s) {
  const std::string when = lower(trim(inject.when));
  if (when == "manual") {
    inject.trigger = Inject::Trigger::manual;
    return;
  }
  if (when.rfind("after ", 0) == 0) {
    inject.trigger = Inject::Trigger::after;
    std::string rest = trim(trim(inject.when).substr(6));  // Event Numbers keep their case
    const auto plus = rest.find('+');
    if (plus != std::string::npos) {
      const auto delay = parse_duration_s(trim(rest.substr(plus + 1)));
      if (!delay || *delay < 0.0)
        fail(where, "Designated Scenario Time '{}': the delay after '+' is not a duration (5min, 90s)", inject.when);
      inject.delay_s = *delay;
      rest = trim(rest.substr(0, plus));
    }
    if (rest.empty()) fail(where, "Designated Scenario Time '{}': after which Event Number?", inject.when);
    inject.after = rest;
    return;
  }
  if (when.rfind("when ", 0) == 0) {
    // "when GAUGE > 2m [and EDGE open|closed]", ids keeping their case.
    static const std::regex pattern(
        R"(when\s+(\S+)\s*([<>])\s*([0-9]+(?:\.[0-9]+)?)\s*m?(?:\s+and\s+(\S+)\s+(open|closed))?\s*)",
        std::regex::icase);
    std::smatch m;
    const std::string text = trim(inject.when);
    if (!std::regex_match(text, m, pattern))
      fail(where, "Designated Scenario Time '{}': expected 'when GAUGE > DEPTHm [and ROAD open|closed]'", inject.when);
    inject.trigger = Inject::Trigger::on_state;
    inject.gauge = m[1].str();
    inject.rising = m[2].str() == ">";
    const std::string depth = m[3].str();
    const auto [end, ec] = std::from_chars(depth.data(), depth.data() + depth.size(), inject.depth_m);
    if (ec != std::errc() || end != depth.data() + depth.size() || !std::isfinite(inject.depth_m) ||
        inject.depth_m > 100.0)
      fail(where, "Designated Scenario Time '{}': depth {} m is not a depth (0 to 100 m)", inject.when, depth);
    inject.road = m[4].str();
    inject.road_open = lower(m[5].str()) != "closed";
    return;
  }
  const auto t = time_since_start_s(trim(inject.when), start_clock_s);
  if (!t || !std::isfinite(*t) || *t < 0.0)
    fail(where, "Designated Scenario Time '{}': expected HH:MM[:SS] (at or after the start), seconds, 'manual', "
                "'after N [+DELAY]' or 'when GAUGE > DEPTHm [and ROAD open|closed]'",
         inject.when);
  inject.time_s = *t;
}

// Refuses an "after" chain that names no inject or loops.
void check_chains(const std::vector<Inject>& injects, const std::string& where) {
  std::map<std::string, const Inject*> by_number;
  for (const auto& i : injects) by_number[i.number] = &i;
  for (const auto& i : injects) {
    std::set<std::string> seen{i.number};
    const Inject* at = &i;
    while (at->trigger == Inject::Trigger::after) {
      const auto next = by_number.find(at->after);
      if (next == by_number.end())
        fail(fmt::format("{}:{}", where, at->line), "inject {} comes after '{}', which is not in the list", at->number,
             at->after);
      if (!seen.insert(next->second->number).second)
        fail(fmt::format("{}:{}", where, i.line), "inject {} waits on itself through 'after' ({})", i.number,
             next->second->number);
      at = next->second;
    }
  }
}

std::string quoted(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::vector<CsvRecord> read_csv(std::string_view csv, const std::string& where) {
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string field;
  int line = 1;
  bool quoted_field = false, in_quotes = false, after_quote = false, any = false;
  const auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    quoted_field = after_quote = false;
  };
  const auto end_record = [&] {
    end_field();
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
    record = CsvRecord{line, {}};
    any = false;
  };
  for (std::size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < csv.size() && csv[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') {
      continue;  // the \n ends the record
    } else if (c == '\n' || c == '\r') {
      ++line;
      end_record();
      record.line = line;
    } else if (c == '"' && field.empty() && !quoted_field) {
      in_quotes = quoted_field = true;
    } else if (after_quote) {
      fail(fmt::format("{}:{}", where, line), "a character after a closing quote ({})", c);
    } else {
      field += c;
    }
    any = true;
  }
  if (in_quotes) fail(fmt::format("{}:{}", where, record.line), "a quoted field is never closed");
  if (any || !field.empty() || !record.fields.empty()) end_record();
  return records;
}

std::vector<Inject> parse_msel(std::string_view csv, const std::string& where, double start_clock_s) {
  twin::require_utf8(csv, where);
  const auto records = read_csv(csv, where);
  if (records.empty()) fail(where, "is empty: an MSEL starts with the header of the ten HSEEP columns");
  std::map<std::string, std::size_t> column_of;
  for (std::size_t k = 0; k < records[0].fields.size(); ++k) column_of[column_key(records[0].fields[k])] = k;
  std::array<std::size_t, kColumns.size()> index{};
  for (std::size_t c = 0; c < kColumns.size(); ++c) {
    const auto it = column_of.find(column_key(kColumns[c]));
    if (it == column_of.end())
      fail(fmt::format("{}:{}", where, records[0].line), "no column '{}' in the header (the ten HSEEP columns: {})",
           kColumns[c], fmt::join(kColumns, ", "));
    index[c] = it->second;
  }
  std::vector<Inject> injects;
  std::set<std::string> numbers;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    const std::string at = fmt::format("{}:{}", where, rec.line);
    const auto field = [&](std::size_t c) {
      return index[c] < rec.fields.size() ? trim(rec.fields[index[c]]) : std::string();
    };
    if (rec.fields.size() > records[0].fields.size())
      fail(at, "{} fields where the header has {}", rec.fields.size(), records[0].fields.size());
    Inject inject;
    inject.line = rec.line;
    inject.number = field(0);
    if (inject.number.empty()) fail(at, "no Event Number");
    if (!numbers.insert(inject.number).second) fail(at, "Event Number {} is given twice", inject.number);
    inject.when = field(1);
    read_trigger(inject, at, start_clock_s);
    inject.type = lower(field(2));
    if (inject.type.empty()) inject.type = "message";
    inject.mode = field(3);
    inject.from = field(4);
    inject.to = split_cells(field(5), at);
    inject.message = field(6);
    if (inject.message.empty()) fail(at, "inject {} has no Message", inject.number);
    inject.expected = field(7);
    inject.objective = field(8);
    inject.notes = field(9);
    injects.push_back(std::move(inject));
  }
  check_chains(injects, where);
  return injects;
}

std::string msel_csv(const std::vector<Inject>& injects, const std::vector<InjectOutcome>* outcomes) {
  std::string out;
  const auto row = [&](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + quoted(fields[i]);
    out += "\r\n";
  };
  std::vector<std::string> header(kColumns.begin(), kColumns.end());
  if (outcomes) header.insert(header.end(), kOutcomeColumns.begin(), kOutcomeColumns.end());
  row(header);
  for (std::size_t i = 0; i < injects.size(); ++i) {
    const auto& j = injects[i];
    std::string to;
    for (const auto& c : j.to) to += (to.empty() ? "" : "; ") + c;
    std::vector<std::string> fields = {j.number, j.when,     j.type,     j.mode,      j.from,
                                       to,       j.message,  j.expected, j.objective, j.notes};
    if (outcomes) {
      const auto& o = (*outcomes)[i];
      fields.insert(fields.end(), {o.state, o.delivered, o.acknowledged, o.response});
    }
    row(fields);
  }
  return out;
}

}  // namespace cadereau::scenarios
