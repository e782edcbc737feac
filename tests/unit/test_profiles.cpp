// The profile rules (compose/profiles.hpp), one test each.
#include <catch2/catch.hpp>

#include "compose/error.hpp"
#include "compose/loader.hpp"
#include "compose/profiles.hpp"

using namespace fleet::compose;

namespace {
const char* kFile = R"(
services:
  base:
    image: x
  web:
    image: x
    depends_on: [base]
  dev:
    image: x
    profiles: [dev]
    depends_on: [base]
  js:
    image: x
    profiles: [javascript]
  registry:
    image: x
    profiles: [registry, ops]
  debug:
    image: x
    profiles: [debug]
    depends_on:
      tools: {condition: service_started, required: false}
  tools:
    image: x
    profiles: [tools]
  needs-tools:
    image: x
    profiles: [needy]
    depends_on: [tools]
)";

Project project(std::map<std::string, std::string> env = {}) {
  return load_project_text(kFile, "docker-compose.yml", Environment::of(std::move(env)), std::string("p"));
}
std::vector<std::string> enabled(const SelectionRequest& r, std::map<std::string, std::string> env = {}) {
  auto e = select_services(project(std::move(env)), r).enabled;
  std::sort(e.begin(), e.end());
  return e;
}
using V = std::vector<std::string>;
}  // namespace

TEST_CASE("rule 1: services without profiles are always enabled", "[profiles]") {
  CHECK(enabled({}) == V{"base", "web"});
}

TEST_CASE("rule 2: any active profile enables a service, and * enables all", "[profiles]") {
  CHECK(enabled({.profile_flags = {"ops"}}) == V{"base", "registry", "web"});
  CHECK(enabled({.profile_flags = {"registry"}}) == V{"base", "registry", "web"});
  CHECK(enabled({.profile_flags = {"*"}}).size() == 8);
}

TEST_CASE("rule 3: COMPOSE_PROFILES counts only when no --profile is given", "[profiles]") {
  CHECK(enabled({}, {{"COMPOSE_PROFILES", " dev , javascript,"}}) == V{"base", "dev", "js", "web"});
  CHECK(enabled({.profile_flags = {"registry"}}, {{"COMPOSE_PROFILES", "dev"}}) ==
        V{"base", "registry", "web"});
}

TEST_CASE("rule 4: naming a service activates its profiles and narrows to it and its dependencies",
          "[profiles]") {
  Selection s = select_services(project(), {.names = {"dev"}});
  CHECK(s.active_profiles.count("dev"));
  CHECK(s.targeted == V{"base", "dev"});  // dependencies first
  Selection web = select_services(project(), {.names = {"web"}});
  CHECK(web.targeted == V{"base", "web"});
}

TEST_CASE("rule 5: a required dependency on a disabled service is an error, an optional one is dropped",
          "[profiles]") {
  CHECK_THROWS_WITH(
      select_services(project(), {.profile_flags = {"needy"}}),
      Catch::Contains("service \"tools\" is required by \"needs-tools\" but is disabled. Can be "
                      "enabled by profiles [tools]"));
  Selection s = select_services(project(), {.profile_flags = {"debug"}});
  CHECK(s.dependencies.at("debug").empty());
  CHECK(std::find(s.enabled.begin(), s.enabled.end(), "tools") == s.enabled.end());
  // Enabling the dependency's profile satisfies it.
  CHECK_NOTHROW(select_services(project(), {.profile_flags = {"needy", "tools"}}));
}

TEST_CASE("up NAME accepts profiles, refuses unknown names and names that are both", "[profiles]") {
  Selection s = select_services(project(), {.names = {"javascript", "ops"}, .names_may_be_profiles = true});
  auto e = s.enabled;
  std::sort(e.begin(), e.end());
  CHECK(e == V{"base", "js", "registry", "web"});
  CHECK(s.targeted == s.enabled);
  CHECK_THROWS_WITH(select_services(project(), {.names = {"nosuch"}, .names_may_be_profiles = true}),
                    "no such service or profile: nosuch");
  CHECK_THROWS_WITH(select_services(project(), {.names = {"dev"}, .names_may_be_profiles = true}),
                    Catch::Contains("\"dev\" is both a service and a profile"));
  CHECK_THROWS_WITH(select_services(project(), {.names = {"javascript"}}),
                    "no such service or profile: javascript");
}
