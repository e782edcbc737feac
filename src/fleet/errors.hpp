// The fleet's one error taxonomy. Every operation behind the door (fleet.hpp) fails with a
// fleet::Error of one of these kinds, whatever failed underneath (the compose loader, the engine,
// the host); adapters map the kind once: the CLI to an exit code, the REST service to a status.
#pragma once

#include <stdexcept>
#include <string>

namespace fleet {

enum class ErrorKind {
  BadInput,           // the request was wrong; nothing was changed (exit 2, HTTP 400)
  NotFound,           // it names a kernel, service or container that does not exist (exit 2, HTTP 404)
  Conflict,           // it clashes with what exists: a name taken, a port range full (exit 1, HTTP 409)
  EngineUnavailable,  // the Docker engine did not answer (exit 1, HTTP 503)
  OperationFailed,    // an operation went wrong on its way (exit 1, HTTP 500)
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Shorthands the operations throw.
struct InvalidInput : Error {
  explicit InvalidInput(const std::string& message) : Error(ErrorKind::BadInput, message) {}
};
struct NotFound : Error {
  explicit NotFound(const std::string& message) : Error(ErrorKind::NotFound, message) {}
};
struct Conflict : Error {
  explicit Conflict(const std::string& message) : Error(ErrorKind::Conflict, message) {}
};
struct OperationFailed : Error {
  explicit OperationFailed(const std::string& message) : Error(ErrorKind::OperationFailed, message) {}
};

// The exception in flight (call inside a catch block) as a fleet::Error: compose errors are bad
// input; engine errors keep their meaning (unreachable, conflict), except that an engine 404 in the
// middle of an operation is an operation that failed, not the user's input; anything else is an
// operation that failed. The door's only translation point.
Error to_fleet_error();

}  // namespace fleet
