#include "data_files.h"

#include "cadereau/twin/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace cadereau::server::service {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_io(const fs::path& file, std::string_view doing) {
  fail_as(ErrorCategory::unavailable, file.string(), "cannot {}: {}", doing, std::strerror(errno));
}

// Closes a file descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, std::string_view text, const fs::path& file) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_io(file, "write");
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t line_of_offset(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// The line where each element of the top-level array `key` starts, in a text
// already known to be valid JSON.
std::vector<std::size_t> entry_lines_of(std::string_view text, std::string_view key) {
  std::vector<std::size_t> lines;
  std::string stack;  // open containers, '{' or '['
  std::string_view last_string;
  bool in_target = false;       // inside the array `key` of the top-level object
  bool expect_element = false;  // the next value starts an element of it
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (expect_element && c != ']') lines.push_back(line);
    expect_element = false;
    if (c == '"') {
      const std::size_t start = ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      last_string = text.substr(start, i - start);
    } else if (c == '[' || c == '{') {
      if (c == '[' && stack.size() == 1 && last_string == key) in_target = expect_element = true;
      stack.push_back(c);
    } else if (c == ']' || c == '}') {
      stack.pop_back();
      if (stack.size() == 1) in_target = false;
    } else if (c == ',' && in_target && stack.size() == 2) {
      expect_element = true;
    }
  }
  return lines;
}

}  // namespace

void fail_at_line(const fs::path& file, std::size_t line, std::string_view what) {
  fail_as(ErrorCategory::internal, fmt::format("{}:{}", file.string(), line), "{}", what);
}

void ensure_private_dir(const fs::path& dir) {
  if (fs::is_directory(dir)) return;
  std::error_code ec;
  fs::create_directories(dir.parent_path().empty() ? fs::path(".") : dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail_io(dir, "create the folder");
}

void write_private_file(const fs::path& file, std::string_view text) {
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::string temp_name = ".";  // hidden, and unique by mkstemp
  temp_name += file.filename().string();
  temp_name += ".XXXXXX";
  std::string temp = (dir / temp_name).string();
  Fd fd{::mkstemp(temp.data())};
  if (fd.fd < 0) fail_io(file, "create a temporary file next to it");
  bool renamed = false;
  try {
    if (::fchmod(fd.fd, 0600) != 0) fail_io(temp, "set mode 0600");
    write_all(fd.fd, text, temp);
    if (::fsync(fd.fd) != 0) fail_io(temp, "flush");
    if (::rename(temp.c_str(), file.c_str()) != 0) fail_io(file, "replace");
    renamed = true;
    Fd dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY)};
    if (dir_fd.fd < 0 || ::fsync(dir_fd.fd) != 0) fail_io(dir, "flush the folder");
  } catch (...) {
    if (!renamed) ::unlink(temp.c_str());
    throw;
  }
}

std::optional<JsonListFile> read_json_list_file(const fs::path& file, std::string_view key) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!fs::exists(file)) return std::nullopt;
    fail_io(file, "read");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  JsonListFile out;
  try {
    out.document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    fail_at_line(file, line_of_offset(text, e.byte == 0 ? 0 : e.byte - 1), "not valid JSON");
  }
  const auto& doc = out.document;
  if (!doc.is_object()) fail_at_line(file, 1, "expected a JSON object");
  if (!doc.contains("version") || doc["version"] != 1)
    fail_at_line(file, 1, fmt::format("expected \"version\": 1, found {}", doc.value("version", nlohmann::json()).dump()));
  if (!doc.contains(key) || !doc[std::string(key)].is_array())
    fail_at_line(file, 1, fmt::format("expected \"{}\": an array", key));
  out.entry_lines = entry_lines_of(text, key);
  const auto& entries = doc[std::string(key)];
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (!entries[i].is_object())
      fail_at_line(file, i < out.entry_lines.size() ? out.entry_lines[i] : 1,
                   fmt::format("entry {} of \"{}\" is not an object", i + 1, key));
  return out;
}

nlohmann::json read_json_object(const fs::path& file) {
  std::ifstream in(file);
  nlohmann::json j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  return j.is_object() ? j : nlohmann::json::object();
}

std::string json_list_text(std::string_view key, const std::vector<nlohmann::json>& entries) {
  std::string text = fmt::format("{{\"version\": 1, \"{}\": [\n", key);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    text += entries[i].dump();
    text += i + 1 < entries.size() ? ",\n" : "\n";
  }
  text += "]}\n";
  return text;
}

int next_numbered_dir(const fs::path& parent) {
  int last = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.empty() && name.size() < 7 && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      last = std::max(last, std::stoi(name));
  }
  return last + 1;
}

std::string utc_now_iso() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace cadereau::server::service
