#include "roles.h"

#include "cadereau/twin/error.h"

#include <array>
#include <utility>

namespace cadereau::server::service {

namespace {

template <typename Enum, std::size_t N>
using Names = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Names<Role, 5> kRoles{{{Role::admin, "admin"},
                                 {Role::director, "director"},
                                 {Role::live_operator, "operator"},
                                 {Role::player, "player"},
                                 {Role::observer, "observer"}}};
constexpr Names<Cell, 5> kCells{{{Cell::police, "police"},
                                 {Cell::traffic, "traffic"},
                                 {Cell::crisis, "crisis"},
                                 {Cell::flood, "flood"},
                                 {Cell::reports, "reports"}}};
constexpr Names<SessionMode, 3> kModes{
    {{SessionMode::exercise, "exercise"}, {SessionMode::live, "live"}, {SessionMode::replay, "replay"}}};

template <typename Enum, std::size_t N>
std::string_view name_of(const Names<Enum, N>& names, Enum value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "?";
}

template <typename Enum, std::size_t N>
Enum parse(const Names<Enum, N>& names, std::string_view text, std::string_view what) {
  std::string accepted;
  for (const auto& [v, name] : names) {
    if (name == text) return v;
    accepted += accepted.empty() ? "" : ", ";
    accepted += name;
  }
  fail(what, "unknown value '{}' (accepted: {})", text, accepted);
}

}  // namespace

std::string_view to_string(Role role) { return name_of(kRoles, role); }
std::string_view to_string(Cell cell) { return name_of(kCells, cell); }
std::string_view to_string(SessionMode mode) { return name_of(kModes, mode); }

Role parse_role(std::string_view text) { return parse(kRoles, text, "role"); }
Cell parse_cell(std::string_view text) { return parse(kCells, text, "cell"); }
SessionMode parse_session_mode(std::string_view text) { return parse(kModes, text, "session mode"); }

std::string principal_text(const Principal& who) { return std::string(to_string(who.role)) + ":" + who.user; }

}  // namespace cadereau::server::service
