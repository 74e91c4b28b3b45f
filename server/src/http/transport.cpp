#include "transport.h"

#include <nlohmann/json.hpp>

namespace cadereau::server::http {

int http_status(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::bad_input: return 400;
    case ErrorCategory::unauthenticated: return 401;
    case ErrorCategory::forbidden: return 403;
    case ErrorCategory::not_found: return 404;
    case ErrorCategory::conflict: return 409;
    case ErrorCategory::too_large: return 413;
    case ErrorCategory::rate_limited: return 429;
    case ErrorCategory::unavailable: return 503;
    case ErrorCategory::internal: return 500;
  }
  return 500;
}

HttpResponse error_response(int status, ErrorCategory category, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", to_string(category)}, {"message", message}}}};
  // A message may quote bytes of a malformed request: never fail on them.
  return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse error_response(ErrorCategory category, std::string_view message) {
  return error_response(http_status(category), category, message);
}

HttpResponse error_response(const Error& error) { return error_response(error.category(), error.what()); }

HttpResponse json_response(int status, std::string json) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(json);
  return response;
}

}  // namespace cadereau::server::http
