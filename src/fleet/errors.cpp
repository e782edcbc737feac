#include "fleet/errors.hpp"

#include "compose/error.hpp"
#include "compose/profiles.hpp"
#include "engine/errors.hpp"

namespace fleet {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
      return "bad input";
    case ErrorKind::NotFound:
      return "not found";
    case ErrorKind::Conflict:
      return "conflict";
    case ErrorKind::EngineUnavailable:
      return "engine unavailable";
    case ErrorKind::OperationFailed:
      return "operation failed";
  }
  return "?";
}

Error to_fleet_error() {
  try {
    throw;
  } catch (const Error& e) {
    return e;
  } catch (const compose::ComposeError& e) {
    return Error(ErrorKind::BadInput, e.what());
  } catch (const compose::SelectionError& e) {
    return Error(ErrorKind::BadInput, e.what());
  } catch (const engine::EngineError& e) {
    switch (e.kind()) {
      case engine::ErrorKind::InvalidEndpoint:
        return Error(ErrorKind::BadInput, e.what());
      case engine::ErrorKind::Connection:
      case engine::ErrorKind::Unsupported:
        return Error(ErrorKind::EngineUnavailable, e.what());
      case engine::ErrorKind::NotFound:
        // Something the operation was working on went away meanwhile (names the user gave that do
        // not exist are found out earlier, by resolve, as NotFound).
        return Error(ErrorKind::OperationFailed, e.what());
      case engine::ErrorKind::Conflict:
        return Error(ErrorKind::Conflict, e.what());
      default:
        return Error(ErrorKind::OperationFailed, e.what());
    }
  } catch (const std::runtime_error& e) {
    return Error(ErrorKind::OperationFailed, e.what());  // the host said no: a file, a lock, a tar
  } catch (const std::exception& e) {
    return Error(ErrorKind::OperationFailed, std::string("internal error: ") + e.what());
  } catch (...) {
    return Error(ErrorKind::OperationFailed, "internal error: unknown exception");
  }
}

}  // namespace fleet
