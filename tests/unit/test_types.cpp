// Typed views of engine JSON: a recorded inspect body, and the nulls the engine sends for empty lists.
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/types.hpp"

using namespace fleet::engine;

TEST_CASE("a recorded inspect body maps to typed fields and keeps the raw JSON", "[types]") {
  std::ifstream in(std::string(FLEET_TEST_DATA) + "/inspect-running.json");
  REQUIRE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  ContainerInspect c = j.get<ContainerInspect>();
  CHECK(c.id == j["Id"]);
  CHECK(c.name == "fixture-rec");
  CHECK(c.state.running);
  CHECK(c.state.status == "running");
  CHECK(c.state.pid > 0);
  CHECK(c.memory == 67108864);
  CHECK(c.nano_cpus == 500000000);
  CHECK(c.user == "1000:1000");
  CHECK(c.config_image == "llmspell-fleet-test:latest");
  REQUIRE(c.state.health);
  CHECK(c.ports.count("8080/tcp") == 1);
  CHECK(c.ports["8080/tcp"].empty());  // exposed, not published
  CHECK(c.raw == j);
}

TEST_CASE("null collections and missing fields read as empty", "[types]") {
  nlohmann::json j = {{"Id", "abc"},      {"Names", nullptr},   {"Labels", nullptr},
                      {"Ports", nullptr}, {"State", "running"}, {"Created", 1700000000}};
  ContainerSummary s = j.get<ContainerSummary>();
  CHECK(s.id == "abc");
  CHECK(s.names.empty());
  CHECK(s.name().empty());
  CHECK(s.labels.empty());
  CHECK(s.ports.empty());
  CHECK(s.state == "running");

  nlohmann::json inspect = {{"Id", "abc"},
                            {"Name", "/k-1"},
                            {"State", {{"Status", "exited"}, {"Health", nullptr}}},
                            {"Config", {{"Labels", nullptr}, {"Env", nullptr}}},
                            {"HostConfig", nullptr}};
  ContainerInspect c = inspect.get<ContainerInspect>();
  CHECK(c.name == "k-1");
  CHECK_FALSE(c.state.health);
  CHECK(c.env.empty());
  CHECK(c.memory == 0);
  CHECK_THROWS(nlohmann::json::object().get<ContainerSummary>());  // an Id is required
}

TEST_CASE("events, exec inspects and summaries map their fields", "[types]") {
  nlohmann::json e = {
      {"Type", "container"},
      {"Action", "health_status: healthy"},
      {"Actor", {{"ID", "c1"}, {"Attributes", {{"name", "k-1"}, {"image", "llmspell:latest"}}}}},
      {"time", 1700000000},
      {"timeNano", 1700000000123456789}};
  Event ev = e.get<Event>();
  CHECK(ev.action == "health_status: healthy");
  CHECK(ev.attributes.at("name") == "k-1");
  CHECK(ev.time_nano == 1700000000123456789);

  CHECK_FALSE(nlohmann::json({{"ID", "x"}, {"Running", true}, {"ExitCode", 0}}).get<ExecInspect>().exit_code);
  CHECK_FALSE(
      nlohmann::json({{"ID", "x"}, {"Running", false}, {"ExitCode", nullptr}}).get<ExecInspect>().exit_code);
  CHECK(nlohmann::json({{"ID", "x"}, {"Running", false}, {"ExitCode", 7}}).get<ExecInspect>().exit_code == 7);

  nlohmann::json ports = nlohmann::json::array(
      {{{"IP", "127.0.0.1"}, {"PrivatePort", 9555}, {"PublicPort", 19555}, {"Type", "tcp"}}});
  ContainerSummary s =
      nlohmann::json({{"Id", "a"}, {"Names", {"/k-1"}}, {"Ports", ports}}).get<ContainerSummary>();
  REQUIRE(s.ports.size() == 1);
  CHECK(s.ports[0].public_port == 19555);
  CHECK(s.name() == "k-1");
}
