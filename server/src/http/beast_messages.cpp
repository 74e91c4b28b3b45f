#include "beast_messages.h"

#include <boost/beast/http/field.hpp>

#include <cctype>
#include <charconv>

namespace cadereau::server::http {

namespace beast_http = boost::beast::http;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string header(const BeastRequest& request, beast_http::field field) {
  auto found = request.find(field);
  return found == request.end() ? std::string() : std::string(found->value().data(), found->value().size());
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> decode_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    out.insert_or_assign(std::move(name), std::move(value));
  }
  return out;
}

HttpRequest to_http_request(const BeastRequest& request, std::string client_address) {
  HttpRequest out;
  const auto method = request.method_string();
  out.method.assign(method.data(), method.size());
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) out.query = decode_query(target.substr(question + 1));
  out.authorization = header(request, beast_http::field::authorization);
  out.cookie = header(request, beast_http::field::cookie);
  out.content_type = header(request, beast_http::field::content_type);
  out.origin = header(request, beast_http::field::origin);
  out.host = header(request, beast_http::field::host);
  const std::string length = header(request, beast_http::field::content_length);
  std::uint64_t value = 0;
  if (!length.empty() &&
      std::from_chars(length.data(), length.data() + length.size(), value).ec == std::errc()) {
    out.content_length = value;
  }
  out.body = request.body();
  out.client_address = std::move(client_address);
  return out;
}

BeastResponse to_beast_response(HttpResponse response, unsigned request_version, bool keep_alive, bool tls) {
  BeastResponse out{static_cast<beast_http::status>(response.status), request_version};
  bool has_cache_control = false;
  for (auto& [name, value] : response.headers) {
    has_cache_control = has_cache_control || iequals(name, "Cache-Control");
    out.insert(name, value);
  }
  if (!response.content_type.empty()) out.set(beast_http::field::content_type, response.content_type);
  out.set("X-Content-Type-Options", "nosniff");
  out.set("X-Frame-Options", "DENY");
  if (!has_cache_control) out.set(beast_http::field::cache_control, "no-store");
  if (tls) out.set("Strict-Transport-Security", "max-age=31536000");
  out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

}  // namespace cadereau::server::http
