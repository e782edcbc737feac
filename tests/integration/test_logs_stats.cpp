#include <catch2/catch.hpp>

#include <thread>

#include "support/engine_fixture.hpp"

using namespace fleet;
using namespace std::chrono_literals;

namespace {
struct Output {
  std::string out, err;
};

Output read_logs(engine::Client& client, const std::string& id, engine::LogsOptions options = {}) {
  Output o;
  client.container_logs(id, options, [&](const engine::OutputChunk& c) {
    (c.stream == engine::StreamId::Stderr ? o.err : o.out).append(c.data);
    return true;
  });
  return o;
}
}  // namespace

TEST_CASE("logs keep stdout and stderr apart, and tail, timestamps and since select", "[logs]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run(
      "logs", scope.container_body({"/bin/sh", "-c", "echo out1; echo err1 >&2; sleep 0.2; echo out2"}));
  REQUIRE(client.wait_container(id, "not-running", 30s).status_code == 0);

  Output all = read_logs(client, id);
  CHECK(all.out == "out1\nout2\n");
  CHECK(all.err == "err1\n");

  CHECK(read_logs(client, id, {.stderr_stream = false}).err.empty());
  CHECK(read_logs(client, id, {.tail = 1}).out == "out2\n");

  Output stamped = read_logs(client, id, {.timestamps = true});
  REQUIRE(stamped.out.size() > 30);
  CHECK(stamped.out.substr(4, 1) == "-");  // 2026-11-24T...
  CHECK_THAT(stamped.out, Catch::Contains("Z out1\n"));

  auto future = static_cast<std::int64_t>(std::time(nullptr)) + 3600;
  Output none = read_logs(client, id, {.since = future});
  CHECK(none.out.empty());
  CHECK(none.err.empty());
}

TEST_CASE("logs of a TTY container arrive raw", "[logs]") {
  test::TestScope scope;
  auto& client = scope.client();
  nlohmann::json body = scope.container_body({"/bin/sh", "-c", "echo tty-line"});
  body["Tty"] = true;
  std::string id = scope.run("tty", body);
  REQUIRE(client.wait_container(id, "not-running", 30s).status_code == 0);
  CHECK_THAT(read_logs(client, id).out, Catch::Contains("tty-line"));
}

TEST_CASE("follow delivers lines as they are written and stops when asked", "[logs]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run(
      "follow", scope.container_body({"/bin/sh", "-c", "echo first; sleep 1; echo second; exec sleep 60"}));
  std::string seen;
  client.container_logs(id, {.follow = true}, [&](const engine::OutputChunk& c) {
    seen.append(c.data);
    return seen.find("second") == std::string::npos;  // stop once the later line came
  });
  CHECK(seen == "first\nsecond\n");
  CHECK(client.inspect_container(id).state.running);  // we stopped reading, the container goes on
}

TEST_CASE("a follow with no output ends when cancelled", "[logs]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("quiet", scope.container_body({"/bin/sh", "-c", "exec sleep 60"}));
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(500ms);
    cancel = true;
  });
  int chunks = 0;
  client.container_logs(id, {.follow = true, .cancel = &cancel}, [&](const engine::OutputChunk&) {
    ++chunks;
    return true;
  });
  bool returned_after_cancel = cancel.load();  // not before: a follow does not end by itself
  stopper.join();
  CHECK(returned_after_cancel);
  CHECK(chunks == 0);
}

TEST_CASE("stats give memory against the limit and CPU from counter deltas", "[stats]") {
  test::TestScope scope;
  auto& client = scope.client();
  // Busy loop: at a 0.5 CPU limit it uses about half a core.
  std::string id = scope.run("busy", scope.container_body({"/bin/sh", "-c", "while :; do :; done"}));
  engine::StatsSample one = client.container_stats(id);
  CHECK(one.memory_limit == 64u * 1024 * 1024);
  CHECK(one.memory_usage > 0);
  CHECK(engine::memory_used(one) <= one.memory_usage);
  CHECK(engine::memory_percent(one) > 0.0);
  CHECK(one.cpu.online_cpus >= 1);
  CHECK(one.pids >= 1);

  std::vector<engine::StatsSample> samples;
  client.stream_container_stats(id, [&](const engine::StatsSample& s) {
    samples.push_back(s);
    return samples.size() < 3;
  });
  REQUIRE(samples.size() == 3);
  double cpu = engine::cpu_percent(samples[1].cpu, samples[2].cpu);
  CHECK(cpu > 10.0);  // ~50 when the machine is quiet; well above idle either way
  CHECK(cpu < 100.0 * samples[2].cpu.online_cpus);
  CHECK(engine::cpu_percent(samples[2]) == Approx(cpu));  // the engine's precpu is our previous frame
}
