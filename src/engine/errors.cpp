#include "engine/errors.hpp"

#include <nlohmann/json.hpp>

namespace fleet::engine {

ErrorKind kind_for_status(long status) {
  if (status == 404) return ErrorKind::NotFound;
  if (status == 409) return ErrorKind::Conflict;
  if (status >= 500) return ErrorKind::ServerError;
  return ErrorKind::BadRequest;
}

std::string daemon_message_from_body(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return parsed["message"].get<std::string>();
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

void throw_for_status(long status, const std::string& body, const std::string& what) {
  std::string daemon = daemon_message_from_body(body);
  std::string message = what + ": " + (daemon.empty() ? "HTTP " + std::to_string(status) : daemon);
  switch (kind_for_status(status)) {
    case ErrorKind::NotFound:
      throw NotFoundError(message, status, daemon);
    case ErrorKind::Conflict:
      throw ConflictError(message, status, daemon);
    case ErrorKind::ServerError:
      throw ServerError(message, status, daemon);
    default:
      throw BadRequestError(message, status, daemon);
  }
}

}  // namespace fleet::engine
