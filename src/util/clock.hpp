// Time as a dependency: loops that wait (readiness, polling, later the pool and the autoscaler)
// take a Clock, so tests drive them with a ManualClock and never sleep.
#pragma once

#include <chrono>
#include <mutex>

namespace fleet::util {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
  // The process-wide real clock.
  static Clock& system();
};

class SystemClock final : public Clock {
 public:
  time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

// Time moves only when told to; sleeping advances it at once.
class ManualClock final : public Clock {
 public:
  time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
  void advance(std::chrono::milliseconds duration);

 private:
  std::mutex mu_;
  time_point now_{};
};

}  // namespace fleet::util
