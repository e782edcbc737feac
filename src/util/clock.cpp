#include "util/clock.hpp"

#include <thread>

namespace fleet::util {

Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

Clock::time_point SystemClock::now() {
  return std::chrono::steady_clock::now();
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

Clock::time_point ManualClock::now() {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualClock::sleep_for(std::chrono::milliseconds duration) {
  advance(duration);
}

void ManualClock::advance(std::chrono::milliseconds duration) {
  std::lock_guard lock(mu_);
  now_ += duration;
}

}  // namespace fleet::util
