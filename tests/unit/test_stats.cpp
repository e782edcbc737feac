// CPU and memory figures from stats bodies: one recorded from this project's engine (cgroup v1),
// one in the cgroup v2 shape (memory_stats.stats without total_* keys, no percpu_usage).
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/types.hpp"

using namespace fleet::engine;

namespace {
nlohmann::json load(const std::string& name) {
  std::ifstream in(std::string(FLEET_TEST_DATA) + "/" + name);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("cgroup v1 sample: CPU from the deltas against precpu, memory against the limit", "[stats]") {
  nlohmann::json j = load("stats-cgroup-v1.json");
  StatsSample s = j.get<StatsSample>();
  CHECK(s.cpu.total_usage == 2546279207u);
  CHECK(s.precpu.total_usage == 2044832437u);
  CHECK(s.cpu.online_cpus == 2);
  // (2546279207 - 2044832437) / (1572820000000 - 1570830000000) * 2 * 100: a busy loop under cpus 0.5
  CHECK(cpu_percent(s) == Approx(501446770.0 / 1990000000.0 * 2 * 100));
  CHECK(cpu_percent(s) == Approx(50.4).epsilon(0.01));
  CHECK(s.memory_limit == 67108864u);
  CHECK(memory_used(s) == 18038784u);
  CHECK(memory_percent(s) == Approx(18038784.0 / 67108864.0 * 100));

  // v1 counts the hierarchy's inactive file cache (total_inactive_file), not the group's own.
  j["memory_stats"]["stats"]["total_inactive_file"] = 4038784;
  j["memory_stats"]["stats"]["inactive_file"] = 1;
  CHECK(memory_used(j.get<StatsSample>()) == 14000000u);
}

TEST_CASE("cgroup v2 sample: inactive_file is subtracted and online_cpus used", "[stats]") {
  StatsSample s = load("stats-cgroup-v2.json").get<StatsSample>();
  CHECK(s.memory_inactive_file == 33554432u);
  CHECK(memory_used(s) == 150994944u - 33554432u);
  CHECK(memory_percent(s) == Approx(117440512.0 / 536870912.0 * 100));  // 21.875
  // 1e9 / 4e9 * 4 CPUs * 100 = one full core
  CHECK(cpu_percent(s) == Approx(100.0));
  CHECK(s.pids == 3);
}

TEST_CASE("CPU percent is 0 unless both deltas are positive", "[stats]") {
  CpuCounters prev{100, 1000, 2}, same{100, 2000, 2}, clock_stood{200, 1000, 2}, empty{};
  CHECK(cpu_percent(prev, same) == 0.0);
  CHECK(cpu_percent(prev, clock_stood) == 0.0);
  CHECK(cpu_percent(prev, empty) == 0.0);
  // A one-shot sample has no precpu; against an empty previous sample the first frame reads 0
  // only when the counters did not move: here they did.
  CHECK(cpu_percent(empty, prev) == Approx(100.0 / 1000.0 * 2 * 100));
  // Without online_cpus the percpu list length counts (older engines); absent both, one CPU.
  nlohmann::json old = {
      {"cpu_stats",
       {{"cpu_usage", {{"total_usage", 300}, {"percpu_usage", {1, 2, 3, 4}}}}, {"system_cpu_usage", 2000}}},
      {"precpu_stats", {{"cpu_usage", {{"total_usage", 100}}}, {"system_cpu_usage", 1000}}}};
  StatsSample s = old.get<StatsSample>();
  CHECK(s.cpu.online_cpus == 4);
  CHECK(cpu_percent(s) == Approx(200.0 / 1000.0 * 4 * 100));
}

TEST_CASE("memory percent without a limit is 0 and usage below the cache is clamped", "[stats]") {
  StatsSample s;
  s.memory_usage = 100;
  s.memory_inactive_file = 200;
  CHECK(memory_used(s) == 0);
  CHECK(memory_percent(s) == 0.0);
}
