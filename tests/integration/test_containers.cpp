#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("create applies limits, labels and the security baseline", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  auto created = client.create_container(scope.name("limits"), scope.container_body());
  engine::ContainerInspect c = client.inspect_container(created.id);
  CHECK(c.name == scope.name("limits"));
  CHECK(c.memory == 64 * 1024 * 1024);
  CHECK(c.nano_cpus == 500'000'000);
  CHECK(c.pids_limit == 64);
  CHECK(c.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(c.security_opt == std::vector<std::string>{"no-new-privileges:true"});
  CHECK(c.user == "1000:1000");
  CHECK(c.labels.at(test::kSessionLabel) == scope.id());
  CHECK(c.state.status == "created");
  CHECK_FALSE(c.privileged);
}

TEST_CASE("start, health, pause, unpause and stop follow the engine's state, and repeats are not errors",
          "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = client.create_container(scope.name("life"), scope.container_body()).id;
  CHECK(client.start_container(id));
  CHECK_FALSE(client.start_container(id));  // 304: already started
  REQUIRE(test::wait_until(
      [&] {
        auto s = client.inspect_container(id).state;
        return s.health && s.health->status == "healthy";
      },
      30s));
  CHECK(client.pause_container(id));
  CHECK(client.inspect_container(id).state.paused);
  CHECK(client.unpause_container(id));
  // Not paused: 20.10 answers 500, newer engines 409; either way the daemon's words say why.
  CHECK_THROWS_WITH(client.unpause_container(id), Catch::Contains("is not paused"));
  engine::ContainerInspect running = client.inspect_container(id);
  CHECK(running.state.running);
  CHECK_FALSE(running.state.paused);
  CHECK(client.stop_container(id, 10));
  engine::ContainerInspect stopped = client.inspect_container(id);
  CHECK(stopped.state.status == "exited");
  CHECK(stopped.state.exit_code == 0);         // SIGTERM handled: no SIGKILL after the grace period
  CHECK_FALSE(client.stop_container(id, 10));  // 304: already stopped
  client.remove_container(id);
  try {
    client.inspect_container(id);
    FAIL("the container still exists");
  } catch (const engine::NotFoundError& e) {
    CHECK(e.status() == 404);
    CHECK_THAT(e.daemon_message(), Catch::Contains("No such container"));
  }
}

TEST_CASE("list filters by label and status", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string a = scope.run("a", scope.container_body());
  std::string b = scope.run("b", scope.container_body());
  auto all = client.list_containers({.filters = scope.label_filter()});
  REQUIRE(all.size() == 2);
  std::vector<std::string> names{all[0].name(), all[1].name()};
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{scope.name("a"), scope.name("b")});
  client.pause_container(b);
  auto filters = scope.label_filter();
  filters["status"] = {"paused"};
  auto paused = client.list_containers({.filters = filters});
  REQUIRE(paused.size() == 1);
  CHECK(paused[0].id == b);
  CHECK(paused[0].state == "paused");
  CHECK(paused[0].labels.at(test::kSessionLabel) == scope.id());
}

TEST_CASE("kill sends the signal asked for and wait returns the exit status", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string term = scope.run("term", scope.container_body());
  std::string hard = scope.run("hard", scope.container_body());
  std::string three = scope.run("three", scope.container_body({"/bin/sh", "-c", "exit 3"}));
  // Let the entrypoints install their trap before signalling.
  REQUIRE(test::wait_until(
      [&] { return client.inspect_container(term).state.health.value().status == "healthy"; }, 30s));
  client.kill_container(term, "SIGTERM");
  client.kill_container(hard);
  CHECK(client.wait_container(term, "not-running", 30s).status_code == 0);
  CHECK(client.wait_container(hard, "not-running", 30s).status_code == 137);
  CHECK(client.wait_container(three, "not-running", 30s).status_code == 3);
}

TEST_CASE("update changes limits of a running and of a paused container", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("update", scope.container_body());
  client.update_container(id,
                          {.memory = 128 * 1024 * 1024, .memory_swap = 256 * 1024 * 1024, .pids_limit = 100});
  engine::ContainerInspect c = client.inspect_container(id);
  CHECK(c.memory == 128 * 1024 * 1024);
  CHECK(c.pids_limit == 100);
  client.pause_container(id);
  client.update_container(id, {.nano_cpus = 250'000'000});
  CHECK(client.inspect_container(id).nano_cpus == 250'000'000);
}

TEST_CASE("rename moves the name and the old one is gone", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string id = scope.run("old", scope.container_body());
  client.pause_container(id);  // renaming works on paused containers too
  client.rename_container(id, scope.name("new"));
  CHECK(client.inspect_container(scope.name("new")).id == id);
  CHECK_THROWS_AS(client.inspect_container(scope.name("old")), engine::NotFoundError);
}

TEST_CASE("remove refuses a running container unless forced, and takes anonymous volumes with v",
          "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  nlohmann::json body = scope.container_body();
  body["Volumes"] = nlohmann::json{{"/data", nlohmann::json::object()}};
  std::string id = scope.run("rm", body);
  std::string volume;
  engine::ContainerInspect inspected = client.inspect_container(id);
  for (const auto& m : inspected.raw.at("Mounts"))
    if (m.at("Destination") == "/data") volume = m.at("Name").get<std::string>();
  REQUIRE_FALSE(volume.empty());
  CHECK_THROWS_AS(client.remove_container(id), engine::ConflictError);
  client.remove_container(id, {.force = true, .volumes = true});
  CHECK_THROWS_AS(client.inspect_container(id), engine::NotFoundError);
  auto volumes = client.list_volumes({{"name", {volume}}});
  CHECK(std::none_of(volumes.begin(), volumes.end(), [&](const auto& v) { return v.name == volume; }));
}

TEST_CASE("a taken name is a conflict and unknown containers are not-found errors", "[containers]") {
  test::TestScope scope;
  auto& client = scope.client();
  client.create_container(scope.name("dup"), scope.container_body());
  try {
    client.create_container(scope.name("dup"), scope.container_body());
    FAIL("created twice");
  } catch (const engine::ConflictError& e) {
    CHECK(e.status() == 409);
    CHECK_THAT(e.daemon_message(), Catch::Contains("already in use"));
  }
  const std::string ghost = scope.name("no-such-container");
  CHECK_THROWS_AS(client.start_container(ghost), engine::NotFoundError);
  CHECK_THROWS_AS(client.stop_container(ghost, 1), engine::NotFoundError);
  CHECK_THROWS_AS(client.pause_container(ghost), engine::NotFoundError);
  CHECK_THROWS_AS(client.remove_container(ghost), engine::NotFoundError);
  try {
    client.inspect_container(ghost);
  } catch (const engine::NotFoundError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains(ghost));
    CHECK_THAT(e.daemon_message(), Catch::Contains("No such container"));
  }
  CHECK_THROWS_AS(
      client.create_container(scope.name("bad"), {{"Image", "no-such-image-for-fleet-tests:none"}}),
      engine::NotFoundError);
}
