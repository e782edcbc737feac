#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "support/engine_fixture.hpp"

using namespace fleet;
using namespace std::chrono_literals;

TEST_CASE("ping gives the daemon's API version and requests use the negotiated one", "[system]") {
  engine::Client client = test::make_client();
  engine::PingResult pong = client.ping();
  auto daemon = engine::ApiVersion::parse(pong.api_version);
  REQUIRE(daemon);
  CHECK(client.api_version() == std::min(*daemon, engine::kNewestApiVersion));
  CHECK(client.api_version() >= engine::kMinimumApiVersion);
  CHECK(pong.os_type == "linux");
}

TEST_CASE("version and info describe the engine", "[system]") {
  engine::Client client = test::make_client();
  engine::VersionInfo v = client.version();
  CHECK_FALSE(v.version.empty());
  CHECK(v.api_version == client.ping().api_version);
  CHECK(v.os == "linux");
  nlohmann::json info = client.info();
  CHECK(info.at("ID").is_string());
  CHECK(info.at("NCPU").get<int>() >= 1);
}

TEST_CASE("a hundred calls go over one connection", "[system]") {
  engine::Client client = test::make_client();
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0)
      client.ping();
    else if (i % 3 == 1)
      client.version();
    else
      client.list_containers({.all = false, .filters = {{"label", {"no.such.label"}}}});
  }
  CHECK(client.connections_opened() == 1);
}

TEST_CASE("events stream live, filtered by label, and end on cancel", "[system][events]") {
  test::TestScope scope;
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::vector<engine::Event> seen;
  std::exception_ptr failure;
  auto since = static_cast<std::int64_t>(std::time(nullptr)) - 1;
  std::thread watcher([&] {
    try {
      engine::Client client = test::make_client();
      client.events({.since = since,
                     .filters = {{"label", scope.label_filter().at("label")}, {"type", {"container"}}},
                     .cancel = &cancel},
                    [&](const engine::Event& e) {
                      std::lock_guard lock(mu);
                      seen.push_back(e);
                      return true;
                    });
    } catch (...) {
      failure = std::current_exception();
    }
  });
  std::string id = scope.run("events", scope.container_body());
  scope.client().pause_container(id);
  bool got = test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        bool start = false, pause = false;
        for (const auto& e : seen) {
          start |= e.action == "start";
          pause |= e.action == "pause";
        }
        return start && pause;
      },
      20s);
  cancel = true;
  watcher.join();
  if (failure) std::rethrow_exception(failure);
  REQUIRE(got);
  for (const auto& e : seen) {
    CHECK(e.type == "container");
    CHECK(e.actor_id == id);
    CHECK(e.attributes.at(test::kSessionLabel) == scope.id());
    CHECK(e.time_nano > 0);
  }
}

TEST_CASE("events between since and until are returned without following", "[system][events]") {
  test::TestScope scope;
  auto since = static_cast<std::int64_t>(std::time(nullptr)) - 1;
  std::string id = scope.client().create_container(scope.name("past"), scope.container_body()).id;
  std::vector<std::string> actions;
  scope.client().events({.since = since,
                         .until = static_cast<std::int64_t>(std::time(nullptr)) + 1,
                         .filters = scope.label_filter()},
                        [&](const engine::Event& e) {
                          actions.push_back(e.action);
                          return true;
                        });
  CHECK(std::find(actions.begin(), actions.end(), "create") != actions.end());
}
