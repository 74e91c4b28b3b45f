#pragma once
// Between Beast's messages and the transport's plain HttpRequest and
// HttpResponse, with the headers every answer carries.

#include "transport.h"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <map>
#include <string>
#include <string_view>

namespace cadereau::server::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Percent-decodes, '+' as a space (form encoding, as browsers send queries).
// A malformed escape is kept as is.
std::string percent_decode(std::string_view text);
// "a=1&b=x%20y" -> {a: 1, b: x y}; a repeated name keeps its last value.
std::map<std::string, std::string> decode_query(std::string_view query);

HttpRequest to_http_request(const BeastRequest& request, std::string client_address);

// The Beast answer to `request_version` with Content-Length, Connection and
// the security headers: X-Content-Type-Options nosniff and X-Frame-Options
// DENY always, Cache-Control no-store unless the response sets its own, and
// Strict-Transport-Security over TLS.
BeastResponse to_beast_response(HttpResponse response, unsigned request_version, bool keep_alive, bool tls);

}  // namespace cadereau::server::http
