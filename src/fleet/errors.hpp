// Errors of fleet operations: the user's input (exit code 2, HTTP 4xx; nothing was changed), or an
// operation that failed on its way (exit code 1, HTTP 5xx).
#pragma once

#include <stdexcept>

namespace fleet {

struct InvalidInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An operation that could not be carried out (a kernel that did not come up, say); exit code 1.
struct OperationFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fleet
