// Typed engine errors. Every engine call fails through one of these, so callers can tell a missing
// container from a conflict from an engine that is not running, and the daemon's own message is kept.
#pragma once

#include <stdexcept>
#include <string>

namespace fleet::engine {

enum class ErrorKind {
  NotFound,         // 404
  Conflict,         // 409
  BadRequest,       // 400 and other 4xx
  ServerError,      // 5xx
  Connection,       // nothing answered at the endpoint
  Timeout,          // the request outlived its deadline
  Protocol,         // an answer we could not read
  Build,            // the daemon reported a failed image build
  InvalidEndpoint,  // DOCKER_HOST malformed
  Unsupported,      // the engine's API is older than we support
};

class EngineError : public std::runtime_error {
 public:
  EngineError(ErrorKind kind, std::string message, long status = 0, std::string daemon_message = {})
      : std::runtime_error(std::move(message)),
        kind_(kind),
        status_(status),
        daemon_message_(std::move(daemon_message)) {}
  ErrorKind kind() const { return kind_; }
  long status() const { return status_; }                                // HTTP status, 0 when none
  const std::string& daemon_message() const { return daemon_message_; }  // the engine's own words

 private:
  ErrorKind kind_;
  long status_;
  std::string daemon_message_;
};

#define FLEET_ENGINE_ERROR(Name, Kind)                                                           \
  class Name : public EngineError {                                                              \
   public:                                                                                       \
    explicit Name(std::string message, long status = 0, std::string daemon_message = {})         \
        : EngineError(ErrorKind::Kind, std::move(message), status, std::move(daemon_message)) {} \
  };
FLEET_ENGINE_ERROR(NotFoundError, NotFound)
FLEET_ENGINE_ERROR(ConflictError, Conflict)
FLEET_ENGINE_ERROR(BadRequestError, BadRequest)
FLEET_ENGINE_ERROR(ServerError, ServerError)
FLEET_ENGINE_ERROR(ConnectionError, Connection)
FLEET_ENGINE_ERROR(TimeoutError, Timeout)
FLEET_ENGINE_ERROR(ProtocolError, Protocol)
FLEET_ENGINE_ERROR(BuildError, Build)
FLEET_ENGINE_ERROR(InvalidEndpointError, InvalidEndpoint)
FLEET_ENGINE_ERROR(UnsupportedEngineError, Unsupported)
#undef FLEET_ENGINE_ERROR

// The kind an HTTP error status maps to (status >= 400).
ErrorKind kind_for_status(long status);
// The daemon's message from an error body: JSON {"message": ...}, else the trimmed text.
std::string daemon_message_from_body(const std::string& body);
// Throws the typed error for an error status; `what` names the request, e.g. "inspect container abc".
[[noreturn]] void throw_for_status(long status, const std::string& body, const std::string& what);

}  // namespace fleet::engine
