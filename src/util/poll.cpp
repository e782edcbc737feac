#include "util/poll.hpp"

#include <algorithm>

namespace fleet::util {

bool poll_until(const std::function<bool()>& done, const PollOptions& options) {
  Clock& clock = options.clock ? *options.clock : Clock::system();
  const auto deadline = clock.now() + options.timeout;
  while (true) {
    if (done()) return true;
    auto now = clock.now();
    if (now >= deadline) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    clock.sleep_for(std::max(std::chrono::milliseconds(1), std::min(options.interval, left)));
  }
}

}  // namespace fleet::util
