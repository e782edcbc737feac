// The one place where errors become exit codes and one-line messages.
#pragma once

#include <stdexcept>
#include <string>

namespace fleet::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // the engine or an operation failed
inline constexpr int kExitBadInput = 2;  // the user's input was wrong; nothing was changed

// Thrown by commands for input they refuse before reaching the fleet (argument shapes).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ExitStatus {
  int code;
  std::string message;
};
// Maps the exception in flight (call inside a catch block) to an exit status.
ExitStatus exit_status_for_current_exception();

}  // namespace fleet::cli
