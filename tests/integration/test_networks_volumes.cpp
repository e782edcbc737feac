#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"

using namespace fleet;

TEST_CASE("networks: create, inspect, list, connect, disconnect, remove", "[networks]") {
  test::TestScope scope;
  auto& client = scope.client();
  std::string net = client.create_network({.name = scope.name("net"), .labels = scope.labels()});
  engine::NetworkInfo info = client.inspect_network(net);
  CHECK(info.name == scope.name("net"));
  CHECK(info.driver == "bridge");
  CHECK(info.labels.at(test::kSessionLabel) == scope.id());

  auto listed = client.list_networks(scope.label_filter());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == net);

  CHECK_THROWS_AS(client.create_network({.name = scope.name("net"), .labels = scope.labels()}),
                  engine::ConflictError);

  std::string c = scope.run("member", scope.container_body());
  client.connect_network(net, c, {"kernel-alias"});
  CHECK(client.inspect_network(net).containers.count(c) == 1);
  auto networks = client.inspect_container(c).networks;
  CHECK(std::find(networks.begin(), networks.end(), scope.name("net")) != networks.end());
  CHECK(client.inspect_container(c)
            .raw["NetworkSettings"]["Networks"][scope.name("net")]["Aliases"]
            .dump()
            .find("kernel-alias") != std::string::npos);

  client.disconnect_network(net, c);
  CHECK(client.inspect_network(net).containers.empty());
  client.remove_network(net);
  CHECK_THROWS_AS(client.inspect_network(net), engine::NotFoundError);
}

TEST_CASE("volumes: create, list, in-use conflict, remove", "[volumes]") {
  test::TestScope scope;
  auto& client = scope.client();
  engine::VolumeInfo v = client.create_volume(scope.name("vol"), scope.labels());
  CHECK(v.name == scope.name("vol"));
  CHECK(v.driver == "local");
  CHECK(v.labels.at(test::kSessionLabel) == scope.id());
  auto listed = client.list_volumes(scope.label_filter());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == v.name);

  nlohmann::json body = scope.container_body();
  body["HostConfig"]["Binds"] = {v.name + ":/data"};
  std::string c = scope.run("user", body);
  CHECK_THROWS_AS(client.remove_volume(v.name), engine::ConflictError);
  client.remove_container(c, {.force = true});
  client.remove_volume(v.name);
  CHECK(client.list_volumes(scope.label_filter()).empty());
}
