// What a kernel is doing right now, for the autoscaler, `find --shared` and draining: the engine's
// stats (CPU and memory as `docker stats` shows them) and the kernel's own status file (busy/idle,
// pending execute requests, connected clients). A whole-fleet sample asks every container at once,
// so it takes about one engine stats period whatever the fleet's size: ~1 s with a StatsMemory (a
// long-running fleet: serve, its autoscaler), which keeps each container's previous sample so that
// one-shot answers do (CPU% is then the average since that sample); ~2 s without one (the engine
// waits for a second tick to fill in the previous counters itself).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/api.hpp"
#include "fleet/observe.hpp"

namespace fleet {

struct KernelLoad {
  std::string id, kernel_id, name;
  bool sampled = false;  // the engine answered for its stats
  // CPU% as `docker stats` shows it (100 = one host CPU), and against the container's own CPU limit
  // (100 = its `cpus` fully used; absent without a limit).
  std::optional<double> cpu_percent, cpu_limit_percent;
  std::optional<double> memory_percent;  // of its memory limit
  std::int64_t memory_used = 0, memory_limit = 0;
  // From the kernel itself (absent when its status could not be read).
  std::optional<std::string> execution_state;  // busy, idle, starting, stopped
  std::optional<int> pending;                  // execute requests received, not yet answered
  std::optional<int> clients;
  std::string last_activity;  // ISO 8601, the kernel's clock
  std::int64_t started = 0;   // unix seconds

  bool idle() const { return execution_state == "idle" && pending.value_or(0) == 0; }
  nlohmann::json to_json() const;
};

// The last stats sample of each container, between whole-fleet samples. Thread-safe.
class StatsMemory {
 public:
  std::optional<engine::StatsSample> previous(const std::string& id);
  void remember(const std::string& id, const engine::StatsSample& sample);

 private:
  struct Entry {
    engine::StatsSample sample;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  std::map<std::string, Entry> samples_;
};

// The kernel's status file (status.json in its state dir), read through the engine; {} when
// unreadable.
nlohmann::json kernel_status(engine::Api& engine, const engine::ContainerInspect& container);
// One container's load: an inspect, its status file and (with `stats`) one stats sample.
KernelLoad sample_load(engine::Api& engine, const ObservedContainer& container, bool stats = true);
// Every container's, all at once (about one engine stats period).
std::vector<KernelLoad> sample_loads(engine::Api& engine, const std::vector<ObservedContainer>& containers,
                                     bool stats = true, StatsMemory* memory = nullptr);

}  // namespace fleet
