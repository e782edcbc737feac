// The one polling loop: ask, and if the answer is not there yet, wait a little and ask again, until
// a deadline. Readiness checks, dependency waits and exec exit codes all use it.
#pragma once

#include <chrono>
#include <functional>

#include "util/clock.hpp"

namespace fleet::util {

struct PollOptions {
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds interval{50};
  Clock* clock = nullptr;  // the system clock when null
};

// Calls `done` until it returns true (then returns true) or the timeout passes (then false). `done`
// is always called at least once, and once more at the deadline. Exceptions from `done` pass through:
// that is how a check says "this will never succeed".
bool poll_until(const std::function<bool()>& done, const PollOptions& options = {});

}  // namespace fleet::util
