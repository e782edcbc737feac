#include "cli/exit_codes.hpp"

#include "fleet/errors.hpp"

namespace fleet::cli {

ExitStatus exit_status_for_current_exception() {
  try {
    throw;
  } catch (const UsageError& e) {
    return {kExitBadInput, e.what()};
  } catch (const fleet::Error& e) {
    switch (e.kind()) {
      case ErrorKind::BadInput:
      case ErrorKind::NotFound:
        return {kExitBadInput, e.what()};
      case ErrorKind::Conflict:
      case ErrorKind::EngineUnavailable:
      case ErrorKind::OperationFailed:
        return {kExitFailure, e.what()};
    }
    return {kExitFailure, e.what()};
  } catch (const std::exception& e) {
    return {kExitFailure, std::string("internal error: ") + e.what()};
  } catch (...) {
    return {kExitFailure, "internal error: unknown exception"};
  }
}

}  // namespace fleet::cli
