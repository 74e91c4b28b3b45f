#include "demo_serve.h"

#include "http/self_signed.h"
#include "serve_command.h"
#include "service/crypto.h"
#include "service/data_files.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <ostream>
#include <sstream>

namespace cadereau::server {
namespace {

struct DemoUser {
  const char* name;
  service::Role role;
  std::optional<service::Cell> cell;
  const char* who;  // what they do in the exercise
};

// One user per role and per cell of the crisis room, named as a French crisis cell names them.
const DemoUser kDemoUsers[] = {
    {"direction", service::Role::director, std::nullopt, "exercise director: runs the clock and the MSEL"},
    {"police", service::Role::player, service::Cell::police, "police cell: closes roads, lowers bollards"},
    {"circulation", service::Role::player, service::Cell::traffic, "traffic cell: light plans, green waves"},
    {"crise", service::Role::player, service::Cell::crisis, "crisis cell: alerts the population, dispatches units"},
    {"inondation", service::Role::player, service::Cell::flood, "flood cell: field observations"},
    {"signalements", service::Role::player, service::Cell::reports, "citizen reports cell"},
    {"veille", service::Role::live_operator, std::nullopt, "live room operator"},
    {"observateur", service::Role::observer, std::nullopt, "evaluator, read-only"},
    {"admin", service::Role::admin, std::nullopt, "administrator"},
};

constexpr const char* kPasswordsFile = "demo-users.txt";
constexpr const char* kExerciseName = "Crue éclair du 3 octobre 1988 (démo)";

// The demo's users, made at the first start with random passwords kept in
// DATA/demo-users.txt (mode 0600: a demo's convenience, not a practice for a
// real site, whose users are added with `cadereau user add`).
std::string demo_users(service::UserStore& users, const std::filesystem::path& data) {
  const auto file = data / kPasswordsFile;
  if (!users.list().empty()) {
    std::ifstream in(file);
    if (!in) return fmt::format("users: those of {} (no {} here: their passwords are yours)\n", data.string(), file.string());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string table = fmt::format("{:<14}{:<10}{:<10}{:<26}{}\n", "user", "role", "cell", "password", "");
  for (const auto& u : kDemoUsers) {
    const std::string password = service::random_base64url(15);
    users.add(u.name, u.role, u.cell, password);
    table += fmt::format("{:<14}{:<10}{:<10}{:<26}{}\n", u.name, service::to_string(u.role),
                         u.cell ? std::string(service::to_string(*u.cell)) : "-", password, u.who);
  }
  service::write_private_file(file, table);
  return table;
}

}  // namespace

int demo_serve_command(Args& args, std::ostream& out, std::ostream& err) {
  const std::filesystem::path data = args.take("data").value_or("cadereau-server");
  ServeSettings settings = serve_listen(data, args.take("listen").value_or("127.0.0.1:8443"));
  args.finish();
  service::ensure_private_dir(data);
  const auto certificate = data / "tls" / "cert.pem", key = data / "tls" / "key.pem";
  if (!std::filesystem::exists(certificate) || !std::filesystem::exists(key)) {
    const auto made = http::make_self_signed_certificate(settings.options.address);
    service::ensure_private_dir(data / "tls");
    service::write_private_file(key, made.key_pem);
    service::write_private_file(certificate, made.certificate_pem);
    out << "made a self-signed certificate: " << certificate.string() << "\n";
  }
  out << "certificate SHA-256 fingerprint (the browser shows it once, to accept): "
      << http::certificate_fingerprint(certificate) << "\n";
  settings.options.tls_certificate_file = certificate;
  settings.options.tls_key_file = key;
  return run_serve(settings, out, err, [&](service::UserStore& users, service::SessionRegistry& sessions) {
    out << "\n" << demo_users(users, data) << "\n";
    for (const auto& s : sessions.list())
      if (s->mode() == service::SessionMode::exercise) {
        out << "exercise: " << s->summary().value("name", s->id()) << " (" << s->id() << "), as it was left\n";
        return;
      }
    const service::Principal director{kDemoUsers[0].name, service::Role::director, std::nullopt};
    const auto session = sessions.create({{"mode", "exercise"}, {"scenario", service::kFlagshipScenarioName}, {"name", kExerciseName}},
                                         service::SessionMode::exercise, director);
    out << "exercise: " << kExerciseName << " (" << session->id() << "), ready to start: log in as "
        << kDemoUsers[0].name << ", open it, press Start\n";
  });
}

}  // namespace cadereau::server
